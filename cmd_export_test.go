package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// ogr2ogr runs GDAL's converter; without it the test is skipped, except under
// CI=true, where GDAL is required.
func ogr2ogr(t *testing.T, args ...string) {
	t.Helper()
	path, err := exec.LookPath("ogr2ogr")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ogr2ogr is required under CI=true (Debian gdal-bin): %v", err)
		}
		t.Skipf("ogr2ogr not installed: %v", err)
	}
	if out, err := exec.Command(path, args...).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// features reads a GeoJSON export as generic features without the
// per-database updated_at.
func features(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []map[string]any `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, f := range fc.Features {
		delete(f["properties"].(map[string]any), "updated_at")
	}
	return fc.Features
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return out
}

// TestExportImportRoundTrips takes the seed out through GDAL (GeoPackage →
// ogr2ogr → GeoJSON) and through the ACLED CSV, imports each into a new
// database and exports it again: the features must be identical.
func TestExportImportRoundTrips(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	mustCLI(t, "seed", "--db", src)
	orig := filepath.Join(dir, "orig.geojson")
	mustCLI(t, "export", "--db", src, "--format", "geojson", "--out", orig)
	want := features(t, orig)
	if len(want) != 13 {
		t.Fatalf("seed export has %d features", len(want))
	}

	gpkg := filepath.Join(dir, "seed.gpkg")
	mustCLI(t, "export", "--db", src, "--format", "gpkg", "--out", gpkg)
	viaGDAL := filepath.Join(dir, "via-gdal.geojson")
	ogr2ogr(t, "-f", "GeoJSON", viaGDAL, gpkg)
	csvFile := filepath.Join(dir, "seed.csv")
	mustCLI(t, "export", "--db", src, "--format", "csv", "--out", csvFile)
	seqFile := filepath.Join(dir, "seed.geojsons")
	mustCLI(t, "export", "--db", src, "--format", "geojsonseq", "--out", seqFile)

	for name, file := range map[string]string{"gpkg via ogr2ogr": viaGDAL, "csv": csvFile, "geojsonseq": seqFile} {
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "dst.db")
			if out := mustCLI(t, "import", file, "--db", db); !strings.Contains(out, "13 inserted") {
				t.Fatalf("import: %s", out)
			}
			again := filepath.Join(t.TempDir(), "again.geojson")
			mustCLI(t, "export", "--db", db, "--out", again)
			if got := features(t, again); !reflect.DeepEqual(got, want) {
				for i := range got {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Fatalf("feature %d differs:\n got %v\nwant %v", i, got[i], want[i])
					}
				}
				t.Fatalf("%d features, want %d", len(got), len(want))
			}
			// Importing the export into the database it came from changes nothing.
			if out := mustCLI(t, "import", file, "--db", src); !strings.Contains(out, "13 unchanged") {
				t.Fatalf("re-import into the source: %s", out)
			}
		})
	}
}

func TestCLIExportFilters(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	mustCLI(t, "seed", "--db", db)
	out := mustCLI(t, "export", "--db", db, "--format", "geojsonseq", "--region", "Baghdad")
	if n := strings.Count(out, "\x1e"); n != 5 {
		t.Fatalf("Baghdad: %d records:\n%s", n, out)
	}
	var ue *usageError
	for _, args := range [][]string{{"export", "--db", db, "--format", "shp"}, {"export", "--db", db, "--bbox", "1,2"},
		{"export", "--db", db, "--format", "gpkg"}} {
		if _, err := runCLI(t, args...); err == nil || !asUsage(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func asUsage(err error, ue **usageError) bool {
	e, ok := err.(*usageError)
	*ue = e
	return ok
}
