package geo_test

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"incidentmap/geo"
	"incidentmap/seed"
)

// TestRelateMatchesPlanar: on every governorate outline, Locate agrees with
// orb/planar's point-in-polygon for 2,000 random points around it (points
// planar puts either side of an edge may be on it: Boundary).
func TestRelateMatchesPlanar(t *testing.T) {
	rs, err := geo.ParseRegions(seed.RegionsGeoJSON)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, reg := range rs.All() {
		p := geo.Prepare(reg.Shape)
		b := reg.Bound
		for i := 0; i < 2000; i++ {
			pt := orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])}
			want := planar.MultiPolygonContains(reg.Shape, pt)
			if loc := p.Locate(pt); (loc == geo.Interior) != want && loc != geo.Boundary {
				t.Fatalf("%s: Locate(%v) = %v; planar says inside %v", reg.Name, pt, loc, want)
			}
		}
	}
}

func TestRelateFunctions(t *testing.T) {
	sq := orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}, {{0.5, 0.5}, {0.5, 1}, {1, 1}, {1, 0.5}, {0.5, 0.5}}}
	line := orb.LineString{{0, 0}, {1, 0}, {1, 1}}
	cases := []struct {
		g    orb.Geometry
		op   string
		pt   orb.Point
		want bool
	}{
		{sq, "S_INTERSECTS", orb.Point{1.5, 1.5}, true},
		{sq, "S_WITHIN", orb.Point{1.5, 1.5}, true},
		{sq, "S_INTERSECTS", orb.Point{0.75, 0.75}, false}, // in the hole
		{sq, "S_TOUCHES", orb.Point{0.5, 0.75}, true},      // on the hole's edge
		{sq, "S_WITHIN", orb.Point{2, 1}, false},           // on the shell
		{sq, "S_TOUCHES", orb.Point{2, 1}, true},
		{sq, "S_DISJOINT", orb.Point{3, 3}, true},
		{line, "S_TOUCHES", orb.Point{0, 0}, true}, // an end
		{line, "S_WITHIN", orb.Point{1, 0}, true},  // a vertex inside the line
		{line, "S_INTERSECTS", orb.Point{0.5, 0}, true},
		{line, "S_INTERSECTS", orb.Point{0.5, 0.1}, false},
		{orb.MultiPoint{{1, 1}, {1, 1}}, "S_EQUALS", orb.Point{1, 1}, true},
		{orb.MultiPoint{{1, 1}, {2, 1}}, "S_EQUALS", orb.Point{1, 1}, false},
		{orb.Point{1, 1}, "S_CONTAINS", orb.Point{1, 1}, true},
		{sq, "S_OVERLAPS", orb.Point{1.5, 1.5}, false},
		{orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}, "S_TOUCHES", orb.Point{1, 0.5}, true},
	}
	for _, tc := range cases {
		got, ok := geo.Prepare(tc.g).Relate(tc.op, tc.pt)
		if !ok || got != tc.want {
			t.Errorf("%s(%v, %T) = %v, %v; want %v", tc.op, tc.pt, tc.g, got, ok, tc.want)
		}
	}
}
