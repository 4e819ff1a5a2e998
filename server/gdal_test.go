package server_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"incidentmap/internal/testsrv"
)

// gdal runs a GDAL program with a deadline, only loopback HTTP and no retries,
// and returns its standard output. Without the program the test is skipped,
// except under CI=true, where GDAL is required.
func gdal(t *testing.T, prog string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(prog)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true (Debian gdal-bin): %v", prog, err)
		}
		t.Skipf("%s not installed: %v", prog, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "GDAL_HTTP_TIMEOUT=30", "GDAL_HTTP_MAX_RETRY=0", "CPL_DEBUG=OFF",
		"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1", "HTTP_PROXY=", "http_proxy=", "GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s\n%s", prog, strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}

var ogrFeatureID = regexp.MustCompile(`(?m)^OGRFeature\(incidents\):(\d+)$`)

// featureIDs are the FIDs ogrinfo printed, in order.
func featureIDs(out string) string {
	var ids []string
	for _, m := range ogrFeatureID.FindAllStringSubmatch(out, -1) {
		ids = append(ids, m[1])
	}
	return strings.Join(ids, " ")
}

func TestGDALOpensTheService(t *testing.T) {
	for _, e := range testsrv.StartSeededEngines(t) {
		t.Run(e.Name, func(t *testing.T) {
			srv := e.Server
			oapif := "OAPIF:" + srv.URL

			t.Run("lists collections", func(t *testing.T) {
				out := gdal(t, "ogrinfo", "-ro", "-so", oapif)
				if !strings.Contains(out, "1: incidents (title: Security incidents) (Point)") {
					t.Fatalf("ogrinfo did not list the incidents layer:\n%s", out)
				}
			})

			t.Run("layer summary", func(t *testing.T) {
				out := gdal(t, "ogrinfo", "-ro", "-al", "-so", oapif+"/collections/incidents")
				for _, want := range []string{"Feature Count: 13", "Geometry: Point", "Extent: (41.080000, 33.262500) - (44.395800, 36.237600)",
					"event_id: String", "event_date: Date", "time_precision: Integer", "event_type: String", "fatalities: Integer",
					"geo_precision: Integer", "updated_at: DateTime", "notes: String"} {
					if !strings.Contains(out, want) {
						t.Errorf("ogrinfo -so lacks %q:\n%s", want, out)
					}
				}
			})

			cases := []struct {
				name string
				args []string
				want string
			}{
				{"all", nil, "1 2 3 4 5 6 7 8 9 10 11 12 13"},
				{"spat Erbil", []string{"-spat", "43.5", "35.9", "44.5", "36.5"}, "4 7 9"},
				{"where fatalities", []string{"-where", "fatalities >= 3"}, "2 5 12"},
				{"where event_type", []string{"-where", "event_type = 'Riots'"}, "1"},
				{"spat and where", []string{"-spat", "42", "33", "43", "34", "-where", "event_date >= '2021-01-01'"}, "8 10 13"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					args := append([]string{"-ro", "-al", "-q"}, tc.args...)
					out := gdal(t, "ogrinfo", append(args, oapif+"/collections/incidents")...)
					if got := featureIDs(out); got != tc.want {
						t.Fatalf("features %q; want %q\n%s", got, tc.want, out)
					}
				})
			}
		})
	}
}

// TestGDALCopiesEveryFeatureOnceThroughNextLinks copies the layer with a page
// size of 2 through a counting proxy: GDAL must follow 7 next links and the
// GeoPackage must hold the 13 incidents once each.
func TestGDALCopiesEveryFeatureOnceThroughNextLinks(t *testing.T) {
	for _, e := range testsrv.StartSeededEngines(t) {
		t.Run(e.Name, func(t *testing.T) {
			srv := e.Server
			target, _ := url.Parse(srv.URL)
			var mu sync.Mutex
			var pages []string
			rp := httputil.NewSingleHostReverseProxy(target)
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/collections/incidents/items" {
					mu.Lock()
					pages = append(pages, r.URL.RawQuery)
					mu.Unlock()
				}
				rp.ServeHTTP(w, r)
			}))
			defer proxy.Close()

			out := filepath.Join(t.TempDir(), "out.gpkg")
			gdal(t, "ogr2ogr", "-f", "GPKG", out, "OAPIF:"+proxy.URL+"/collections/incidents", "-oo", "PAGE_SIZE=2")

			db, err := sql.Open("sqlite3", "file:"+out+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows, err := db.Query("SELECT event_id FROM incidents ORDER BY event_id")
			if err != nil {
				t.Fatalf("read the GeoPackage: %v", err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				got = append(got, id)
			}
			var want []string
			for i := 1; i <= 13; i++ {
				want = append(want, "SEED-IRQ-"+strconv.Itoa(1000 + i)[1:])
			}
			if !slices.Equal(got, want) {
				t.Fatalf("GeoPackage holds %v; want each of the 13 seed incidents once", got)
			}
			mu.Lock()
			defer mu.Unlock()
			var paged []string
			for _, q := range pages {
				if v, _ := url.ParseQuery(q); v.Get("limit") == "2" {
					paged = append(paged, q)
				}
			}
			// 13 features in pages of 2: offsets 0, 2, …, 12.
			if len(paged) < 7 || !strings.Contains(strings.Join(paged, " "), "offset=12") {
				t.Fatalf("GDAL fetched these item pages: %v; want 7 pages of limit=2 reaching offset=12", pages)
			}
		})
	}
}
