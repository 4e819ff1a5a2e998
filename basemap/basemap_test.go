package basemap_test

import (
	"context"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"incidentmap/basemap"
)

// box is the area the layers cover (see README.md).
var box = orb.Bound{Min: orb.Point{38, 28.5}, Max: orb.Point{49.5, 38}}

// TestLayersWellFormed: every layer parses, lies in the box, and its rings
// are closed and wound as RFC 7946 asks.
func TestLayersWellFormed(t *testing.T) {
	want := map[string]int{"land": 7, "lakes": 7, "rivers": 17, "places": 67}
	for _, l := range basemap.Layers {
		data, etag, err := basemap.File(l.ID)
		if err != nil || etag == "" {
			t.Fatalf("%s: %v, etag %q", l.ID, err, etag)
		}
		fc, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			t.Fatalf("%s: %v", l.ID, err)
		}
		if len(fc.Features) != want[l.ID] {
			t.Errorf("%s: %d features, want %d", l.ID, len(fc.Features), want[l.ID])
		}
		for i, f := range fc.Features {
			if b := f.Geometry.Bound(); !box.Contains(b.Min) || !box.Contains(b.Max) {
				t.Errorf("%s feature %d (%v) reaches outside the box: %v", l.ID, i, f.Properties["name"], b)
			}
			var polys orb.MultiPolygon
			switch g := f.Geometry.(type) {
			case orb.Polygon:
				polys = orb.MultiPolygon{g}
			case orb.MultiPolygon:
				polys = g
			}
			for _, p := range polys {
				for k, r := range p {
					wantO := orb.CCW
					if k > 0 {
						wantO = orb.CW
					}
					if len(r) < 4 || !r.Closed() || r.Orientation() != wantO {
						t.Errorf("%s %v ring %d: %d points, closed %t, orientation %v", l.ID, f.Properties["name"], k, len(r), r.Closed(), r.Orientation())
					}
				}
			}
		}
	}
	if _, _, err := basemap.File("../basemap"); err == nil {
		t.Error("a path outside the layer list was served")
	}
}

// TestLandValidForGDAL has GDAL judge the land layer: every country valid,
// and no overlap between neighbours (the union's area is the sum). GDAL is
// required under CI=true.
func TestLandValidForGDAL(t *testing.T) {
	prog, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ogrinfo is required under CI=true (Debian gdal-bin): %v", err)
		}
		t.Skipf("ogrinfo not installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, tc := range []struct {
		file    string
		overlap bool // check the pieces do not overlap
	}{{"land.geojson", true}, {"lakes.geojson", false}} {
		// holes: the mainland (the union's first part) has none where
		// neighbours meet without a gap.
		sql := `SELECT count(*) AS n, sum(ST_IsValid(geometry)) AS valid,
			sum(ST_Area(geometry)) AS area_sum, ST_Area(ST_Union(geometry)) AS area_union,
			coalesce(NumInteriorRings(ST_GeometryN(ST_Union(geometry), 1)), NumInteriorRings(ST_Union(geometry))) AS holes
			FROM ` + strings.TrimSuffix(tc.file, ".geojson")
		cmd := exec.CommandContext(ctx, prog, "-q", "-ro", "-dialect", "sqlite", "-sql", sql, tc.file)
		cmd.Env = append(os.Environ(), "OGR_GEOMETRY_ACCEPT_UNCLOSED_RING=NO")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo %s: %v\n%s", tc.file, err, out)
		}
		field := func(name string) float64 {
			m := regexp.MustCompile(`(?m)^\s*` + name + ` \(\w+\) = (\S+)$`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("ogrinfo printed no %s:\n%s", name, out)
			}
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			return v
		}
		if n, valid := field("n"), field("valid"); n == 0 || n != valid {
			t.Errorf("%s: %v of %v geometries valid\n%s", tc.file, valid, n, out)
		}
		if !tc.overlap {
			continue
		}
		if sum, union := field("area_sum"), field("area_union"); math.Abs(sum-union) > 1e-6*sum {
			t.Errorf("%s: pieces add up to %v square degrees, their union %v: neighbours overlap", tc.file, sum, union)
		}
		if holes := field("holes"); holes != 0 {
			t.Errorf("%s: the mainland has %v holes: gaps between neighbours", tc.file, holes)
		}
	}
}
