package seed_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestRegionsValidForGDAL has GDAL (GEOS through SpatiaLite) judge the
// boundaries file: every polygon valid (closed, no self-intersection), the
// pieces dissolving into one polygon whose area is the sum of theirs (no
// overlaps), and no hole in that union (no gaps). Without ogrinfo the test is
// skipped, except under CI=true, where GDAL is required.
func TestRegionsValidForGDAL(t *testing.T) {
	prog, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ogrinfo is required under CI=true (Debian gdal-bin): %v", err)
		}
		t.Skipf("ogrinfo not installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sql := `SELECT count(*) AS n, sum(ST_IsValid(geometry)) AS valid,
		ST_NumGeometries(ST_Union(geometry)) AS parts,
		NumInteriorRings(ST_Union(geometry)) AS holes,
		sum(ST_Area(geometry)) AS area_sum, ST_Area(ST_Union(geometry)) AS area_union
		FROM regions`
	cmd := exec.CommandContext(ctx, prog, "-q", "-ro", "-dialect", "sqlite", "-sql", sql, "regions.geojson")
	// An unclosed ring is an error, not something GDAL quietly closes.
	cmd.Env = append(os.Environ(), "OGR_GEOMETRY_ACCEPT_UNCLOSED_RING=NO")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	field := func(name string) float64 {
		t.Helper()
		m := regexp.MustCompile(`(?m)^\s*` + name + ` \(\w+\) = (\S+)$`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("ogrinfo printed no %s:\n%s", name, out)
		}
		v, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatalf("%s = %q: %v", name, m[1], err)
		}
		return v
	}
	if n, valid := field("n"), field("valid"); n != 18 || valid != 18 {
		t.Errorf("%v of %v polygons valid; want 18 of 18\n%s", valid, n, out)
	}
	if parts, holes := field("parts"), field("holes"); parts != 1 || holes != 0 {
		t.Errorf("the union has %v parts and %v holes; want 1 and 0 (a gap between neighbours)\n%s", parts, holes, out)
	}
	sum, union := field("area_sum"), field("area_union")
	if d := sum - union; d > 1e-6 || d < -1e-6 {
		t.Errorf("sum of areas %v differs from the union's %v: neighbours overlap", sum, union)
	}
}
