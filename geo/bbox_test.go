package geo_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"incidentmap/geo"
)

func TestParseBBox(t *testing.T) {
	good := []struct {
		name, in string
		want     orb.Bound
	}{
		{"four numbers", "43.5,35.9,44.5,36.5", orb.Bound{Min: orb.Point{43.5, 35.9}, Max: orb.Point{44.5, 36.5}}},
		{"six numbers drop heights", "43.5,35.9,-10,44.5,36.5,100", orb.Bound{Min: orb.Point{43.5, 35.9}, Max: orb.Point{44.5, 36.5}}},
		{"whole world", "-180,-90,180,90", orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}},
		{"a point", "44,33,44,33", orb.Bound{Min: orb.Point{44, 33}, Max: orb.Point{44, 33}}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, err := geo.ParseBBox(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParseBBox(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
	bad := []struct{ name, in, wantMsg string }{
		{"three numbers", "1,2,3", "4 or 6"},
		{"five numbers", "1,2,3,4,5", "4 or 6"},
		{"empty", "", "4 or 6"},
		{"word", "a,2,3,4", "not a finite number"},
		{"NaN", "NaN,2,3,4", "not a finite number"},
		{"Inf", "1,2,Inf,4", "not a finite number"},
		{"lat 95", "40,30,45,95", "latitude 95"},
		{"lon 181", "40,30,181,35", "longitude 181"},
		{"lat min above max", "40,36,45,35", "minimum latitude"},
		{"heights reversed", "40,30,10,45,35,0", "height"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := geo.ParseBBox(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("ParseBBox(%q) error = %v; want one mentioning %q", tc.in, err, tc.wantMsg)
			}
		})
	}
}

func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{"1,2,3,4", "1,2,3,4,5,6", "-180,-90,180,90", "1e400,0,0,0", ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := geo.ParseBBox(s)
		if err == nil && (b.Min[1] > b.Max[1] || b.Min[0] < -180 || b.Max[0] > 180 || b.Max[1] > 90) {
			t.Fatalf("ParseBBox(%q) accepted an invalid box %v", s, b)
		}
	})
}

// TestBBoxAcrossAntimeridian: a minimum longitude east of the maximum is a
// box across ±180 (OGC API – Features 7.15.3), split into its two halves.
func TestBBoxAcrossAntimeridian(t *testing.T) {
	b, err := geo.ParseBBox("170,-10,-170,10")
	if err != nil {
		t.Fatalf("ParseBBox: %v", err)
	}
	if !geo.CrossesAntimeridian(b) {
		t.Fatalf("%v does not cross the antimeridian", b)
	}
	got := geo.SplitBBox(b)
	want := []orb.Bound{
		{Min: orb.Point{170, -10}, Max: orb.Point{180, 10}},
		{Min: orb.Point{-180, -10}, Max: orb.Point{-170, 10}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SplitBBox = %v, want %v", got, want)
	}
	if one := geo.SplitBBox(orb.Bound{Min: orb.Point{40, 30}, Max: orb.Point{45, 35}}); len(one) != 1 {
		t.Fatalf("an ordinary box split in %d", len(one))
	}
}
