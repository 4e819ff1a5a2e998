package crs_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"incidentmap/crs"
)

// gdalTransform runs gdaltransform from CRS84 to target over the points and
// returns what GDAL (PROJ) computes: the oracle for our projections.
func gdalTransform(t *testing.T, target string, pts [][2]float64) [][2]float64 {
	t.Helper()
	if _, err := exec.LookPath("gdaltransform"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("gdaltransform (gdal-bin) is needed under CI: %v", err)
		}
		t.Skip("gdaltransform not installed")
	}
	var in bytes.Buffer
	for _, p := range pts {
		fmt.Fprintf(&in, "%.9f %.9f\n", p[0], p[1])
	}
	cmd := exec.Command("gdaltransform", "-s_srs", "OGC:CRS84", "-t_srs", target, "-output_xy")
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gdaltransform: %v", err)
	}
	var res [][2]float64
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var x, y float64
		if _, err := fmt.Sscan(line, &x, &y); err != nil {
			t.Fatalf("gdaltransform output %q: %v", line, err)
		}
		res = append(res, [2]float64{x, y})
	}
	if len(res) != len(pts) {
		t.Fatalf("gdaltransform gave %d points for %d", len(res), len(pts))
	}
	return res
}

// iraqPoints are random points over Iraq and its borders (38.5–49°E,
// 28.5–37.5°N), plus the corners.
func iraqPoints(n int) [][2]float64 {
	r := rand.New(rand.NewPCG(1, 2))
	pts := [][2]float64{{38.5, 28.5}, {49, 37.5}, {44.3661, 33.3152}, {39, 33}, {45, 33}, {51, 33}}
	for len(pts) < n {
		pts = append(pts, [2]float64{38.5 + r.Float64()*10.5, 28.5 + r.Float64()*9})
	}
	return pts
}

// TestProjectionsAgainstGDAL: forward and inverse against gdaltransform,
// within 1 cm (projected) or 1e-9° (geographic) on 2,000 points each.
func TestProjectionsAgainstGDAL(t *testing.T) {
	pts := iraqPoints(2000)
	for _, c := range crs.Offered[1:] {
		t.Run(c.URI, func(t *testing.T) {
			want := gdalTransform(t, fmt.Sprintf("EPSG:%d", c.EPSG), pts)
			worst, worstBack := 0.0, 0.0
			for i, p := range pts {
				x, y := c.Forward(p[0], p[1])
				// gdaltransform prints easting, northing or longitude, latitude
				// (the traditional GIS order) whatever the CRS's axis order;
				// EPSG:4326 puts latitude first.
				if c.LatFirst {
					want[i] = [2]float64{want[i][1], want[i][0]}
				}
				d := math.Hypot(x-want[i][0], y-want[i][1])
				worst = math.Max(worst, d)
				lon, lat := c.Inverse(want[i][0], want[i][1]) // GDAL's figures back
				worstBack = math.Max(worstBack, math.Hypot(lon-p[0], lat-p[1]))
			}
			// 1 cm in metres; in degrees 1e-8° (≈ 1 mm), the 9 decimals the
			// points are printed with to GDAL.
			tol, tolBack := 0.01, 1e-8
			if !c.Projected {
				tol = 1e-8
			}
			t.Logf("%s: worst forward difference from GDAL %.3g, worst inverse %.3g°", c.URI, worst, worstBack)
			if worst > tol || worstBack > tolBack {
				t.Fatalf("%s: forward off GDAL by up to %g (tolerance %g), inverse by %g° (tolerance %g°)", c.URI, worst, tol, worstBack, tolBack)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	for in, want := range map[string]*crs.CRS{
		"http://www.opengis.net/def/crs/OGC/1.3/CRS84": crs.CRS84,
		"http://www.opengis.net/def/crs/EPSG/0/4326":   crs.EPSG4326,
		"[EPSG:3857]":                 crs.EPSG3857,
		"EPSG:32638":                  crs.UTM38N,
		"urn:ogc:def:crs:EPSG::32639": crs.UTM39N,
		"https://www.opengis.net/def/crs/EPSG/0/32637": crs.UTM37N,
		"OGC:CRS84": crs.CRS84,
	} {
		got, err := crs.Lookup(in)
		if err != nil || got != want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", in, got, err, want.URI)
		}
	}
	_, err := crs.Lookup("http://www.opengis.net/def/crs/EPSG/0/2154")
	if err == nil || !strings.Contains(err.Error(), "EPSG/0/32639") {
		t.Fatalf("Lookup of an unoffered CRS: %v; want an error listing the offer", err)
	}
}
