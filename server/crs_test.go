package server_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

const (
	uriCRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	uri4326  = "http://www.opengis.net/def/crs/EPSG/0/4326"
	uri3857  = "http://www.opengis.net/def/crs/EPSG/0/3857"
	uri32638 = "http://www.opengis.net/def/crs/EPSG/0/32638"
)

// coordsByEventID are the point coordinates of a FeatureCollection by event_id.
func coordsByEventID(t *testing.T, body []byte) map[string][2]float64 {
	t.Helper()
	var fc featureCollection
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatalf("not a FeatureCollection: %v\n%s", err, body)
	}
	out := map[string][2]float64{}
	for _, f := range fc.Features {
		c := f.Geometry.Coordinates
		out[fmt.Sprint(f.Properties["event_id"])] = [2]float64{c[0], c[1]}
	}
	return out
}

// TestCRSOutputAgainstGDAL: items in a projected CRS (crs=…) have the
// coordinates GDAL's ogr2ogr -t_srs gives for the default CRS84 layer read
// over OAPIF, within 1 cm; EPSG:4326 is latitude first.
func TestCRSOutputAgainstGDAL(t *testing.T) {
	// Our coordinates per engine and CRS: both engines must give the same.
	ours := map[string]map[string]map[string][2]float64{}
	testsrv.ForEngines(t, testsrv.Seed, nil, func(t *testing.T, srv *testsrv.Server) {
		ours[srv.Engine] = map[string]map[string][2]float64{}
		crsAgainstGDAL(t, srv, ours[srv.Engine])
	})
	if len(ours) < 2 {
		return // one engine chosen by -run
	}
	for crs, got := range ours["postgis"] {
		if want := ours["sqlite"][crs]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: PostGIS gives coordinates %v, SQLite %v", crs, got, want)
		}
	}
}

// crsAgainstGDAL is TestCRSOutputAgainstGDAL on one server; it records our
// coordinates per CRS in ours.
func crsAgainstGDAL(t *testing.T, srv *testsrv.Server, ours map[string]map[string][2]float64) {
	for _, tc := range []struct {
		uri, epsg string
		tol       float64
		swap      bool
	}{
		{uri32638, "EPSG:32638", 0.01, false},
		{"http://www.opengis.net/def/crs/EPSG/0/32637", "EPSG:32637", 0.01, false},
		{"http://www.opengis.net/def/crs/EPSG/0/32639", "EPSG:32639", 0.01, false},
		{uri3857, "EPSG:3857", 0.01, false},
		{uri4326, "EPSG:4326", 1e-9, true},
	} {
		t.Run(tc.epsg, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "gdal.geojson")
			gdal(t, "ogr2ogr", "-f", "GeoJSON", "-t_srs", tc.epsg, "-lco", "COORDINATE_PRECISION=6", out,
				"OAPIF:"+srv.URL+"/collections/incidents")
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			want := coordsByEventID(t, data)
			status, ctype, body := srv.Get(t, "/collections/incidents/items?limit=100&crs="+url.QueryEscape(tc.uri))
			if status != 200 || ctype != "application/geo+json" {
				t.Fatalf("status %d %s: %s", status, ctype, body)
			}
			got := coordsByEventID(t, body)
			ours[tc.epsg] = got
			if len(got) != 13 || len(want) != 13 {
				t.Fatalf("%d features from us, %d from GDAL; want 13 each", len(got), len(want))
			}
			worst := 0.0
			for id, w := range want {
				g := got[id]
				if tc.swap {
					// GDAL's GeoJSON is longitude first whatever the CRS's axis order.
					g = [2]float64{g[1], g[0]}
				}
				worst = math.Max(worst, math.Hypot(g[0]-w[0], g[1]-w[1]))
			}
			t.Logf("%s: worst difference from ogr2ogr -t_srs %.3g", tc.epsg, worst)
			if worst > tc.tol {
				t.Fatalf("coordinates differ from GDAL's by up to %g; tolerance %g", worst, tc.tol)
			}
		})
	}
}

func TestCRSParameters(t *testing.T) {
	srv := testsrv.StartSeeded(t)

	var col struct {
		CRS        []string `json:"crs"`
		StorageCRS string   `json:"storageCrs"`
	}
	srv.GetJSON(t, "/collections/incidents", 200, &col)
	if len(col.CRS) != 6 || col.CRS[0] != uriCRS84 || col.StorageCRS != uriCRS84 || !strings.Contains(strings.Join(col.CRS, " "), uri32638) {
		t.Fatalf("collection crs %v storageCrs %q", col.CRS, col.StorageCRS)
	}

	t.Run("Content-Crs", func(t *testing.T) {
		for q, want := range map[string]string{
			"/collections/incidents/items":                                       "<" + uriCRS84 + ">",
			"/collections/incidents/items?crs=" + url.QueryEscape(uri3857):       "<" + uri3857 + ">",
			"/collections/incidents/items/3?crs=" + url.QueryEscape(uri32638):    "<" + uri32638 + ">",
			"/collections/incidents/items/3?crs=" + url.QueryEscape("EPSG:4326"): "<" + uri4326 + ">",
		} {
			resp, err := http.Get(srv.URL + q)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Crs") != want {
				t.Errorf("%s: %d Content-Crs %q; want %q", q, resp.StatusCode, resp.Header.Get("Content-Crs"), want)
			}
		}
	})

	t.Run("a feature's ETag differs per CRS", func(t *testing.T) {
		tags := map[string]bool{}
		for _, q := range []string{"", "?crs=EPSG:32638", "?crs=EPSG:3857"} {
			resp, err := http.Get(srv.URL + "/collections/incidents/items/3" + q)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			tags[resp.Header.Get("ETag")] = true
		}
		if len(tags) != 3 {
			t.Fatalf("ETags %v; want one per CRS", tags)
		}
	})

	t.Run("one feature in EPSG:4326 is latitude first", func(t *testing.T) {
		var f feature
		srv.GetJSON(t, "/collections/incidents/items/3?crs="+url.QueryEscape(uri4326), 200, &f)
		if c := f.Geometry.Coordinates; len(c) != 2 || c[0] != 33.7856 || c[1] != 42.4412 {
			t.Fatalf("coordinates %v; want [33.7856 42.4412]", c)
		}
	})

	// The same boxes around Erbil in each CRS select the same incidents.
	t.Run("bbox-crs", func(t *testing.T) {
		cases := map[string]string{
			"bbox=43.5,35.9,44.5,36.5":                                                  "4 7 9",
			"bbox=35.9,43.5,36.5,44.5&bbox-crs=" + url.QueryEscape(uri4326):             "4 7 9",
			"bbox=4842000,4288000,4954000,4366000&bbox-crs=" + url.QueryEscape(uri3857): "4 7 9",
			// UTM 38N: Erbil airport (43.9632, 36.2376) is at about 406,950 E, 4,011,100 N.
			"bbox=400000,4000000,420000,4020000&bbox-crs=" + url.QueryEscape(uri32638): "4 7 9",
			"bbox=400000,4000000,406000,4020000&bbox-crs=" + url.QueryEscape(uri32638): "",
		}
		for q, want := range cases {
			var fc featureCollection
			srv.GetJSON(t, "/collections/incidents/items?"+q, 200, &fc)
			if got := strings.Trim(fmt.Sprint(fc.ids()), "[]"); got != want || fc.NumberMatched != int64(len(strings.Fields(want))) {
				t.Errorf("%s: ids %q numberMatched %d; want %q", q, got, fc.NumberMatched, want)
			}
		}
	})

	t.Run("filter-crs", func(t *testing.T) {
		poly := "S_INTERSECTS(geometry, POLYGON((400000 4000000, 420000 4000000, 420000 4020000, 400000 4020000, 400000 4000000)))"
		var fc featureCollection
		srv.GetJSON(t, "/collections/incidents/items?filter-crs="+url.QueryEscape(uri32638)+"&filter="+url.QueryEscape(poly), 200, &fc)
		if got := fmt.Sprint(fc.ids()); got != "[4 7 9]" || fc.NumberMatched != 3 {
			t.Fatalf("ids %s numberMatched %d; want [4 7 9]", got, fc.NumberMatched)
		}
		lat := "S_INTERSECTS(geometry, BBOX(35.9, 43.5, 36.5, 44.5))"
		srv.GetJSON(t, "/collections/incidents/items?filter-crs=EPSG:4326&filter="+url.QueryEscape(lat), 200, &fc)
		if got := fmt.Sprint(fc.ids()); got != "[4 7 9]" {
			t.Fatalf("EPSG:4326 BBOX: ids %s; want [4 7 9]", got)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for q, want := range map[string]string{
			"crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/2154"):                    "EPSG/0/32639",
			"bbox-crs=EPSG:27700&bbox=0,0,1,1":                                                        "not offered",
			"filter-crs=EPSG:27700&filter=id%3D1":                                                     "filter-crs",
			"crs=" + url.QueryEscape(uri3857) + "&f=csv":                                              "download is in CRS84",
			"crs=" + url.QueryEscape(uri3857) + "&f=html":                                             "HTML page shows CRS84",
			"bbox=-100,0,0,1&bbox-crs=" + url.QueryEscape(uri4326):                                    "latitude",
			"bbox=1,1,0,0&bbox-crs=" + url.QueryEscape(uri32638):                                      "minimum must come before",
			"bbox=1e9,0,2e9,1&bbox-crs=" + url.QueryEscape(uri32638):                                  "outside the area",
			"filter-crs=EPSG:32638&filter=" + url.QueryEscape("S_INTERSECTS(geometry, POINT(1e9 0))"): "outside the area",
			"filter=" + url.QueryEscape("S_INTERSECTS(geometry, POINT(200 10))"):                      "not longitude, latitude",
			"filter-crs=EPSG:4326&filter=" + url.QueryEscape("S_WITHIN(geometry, POINT(10 200))"):     "latitude, longitude",
		} {
			status, _, body := srv.Get(t, "/collections/incidents/items?"+q)
			if status != 400 || !strings.Contains(string(body), want) {
				t.Errorf("%s: %d %s; want 400 saying %q", q, status, body, want)
			}
		}
	})
}
