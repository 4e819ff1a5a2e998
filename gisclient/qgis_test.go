package gisclient_test

import (
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"

	"incidentmap/internal/testsrv"
)

// qgisRows is how many generated incidents QGIS loads: the figure,
// twenty pages of 1,000.
const qgisRows = 20000

// TestQGISLoadsTheLayer opens the incidents in QGIS 3.22 headless (Debian
// python3-qgis, QT_QPA_PLATFORM=offscreen) through its OAPIF provider: the
// layer is valid with every feature once and the right field types, and a
// bbox request and a subset string give exactly the ids the server's own
// bbox and filter give. Under CI=true a missing QGIS fails the test.
func TestQGISLoadsTheLayer(t *testing.T) {
	t.Parallel() // QGIS's two minutes overlap the OWSLib test's
	python := pythonWith(t, "qgis.core", "python3-qgis")
	srv := testsrv.Start(t, testsrv.OpenSynthetic(t, qgisRows), nil)
	const bbox, subset = "44.2,33.2,44.5,33.5", "event_type = 'Riots' AND fatalities >= 1"
	runtime := t.TempDir()
	if err := os.Chmod(runtime, 0o700); err != nil { // Qt wants its runtime directory private
		t.Fatal(err)
	}
	out := runPython(t, python, []string{"QT_QPA_PLATFORM=offscreen", "XDG_RUNTIME_DIR=" + runtime, "HOME=" + t.TempDir()},
		"qgis_client.py", srv.URL, "44.2", "33.2", "44.5", "33.5", subset)
	var got struct {
		Valid        bool              `json:"valid"`
		Error        string            `json:"error"`
		FeatureCount int               `json:"featureCount"`
		Fields       map[string]string `json:"fields"`
		CRS          string            `json:"crs"`
		Iterated     int               `json:"iterated"`
		Distinct     int               `json:"distinct"`
		BBox         []int64           `json:"bbox"`
		Subset       []int64           `json:"subset"`
		SubsetCount  int               `json:"subsetCount"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("script output is not JSON (%v): %s", err, out)
	}
	if !got.Valid || got.Error != "" {
		t.Fatalf("QGIS: layer valid %v, error %q", got.Valid, got.Error)
	}
	if got.FeatureCount != qgisRows || got.Iterated != qgisRows || got.Distinct != qgisRows {
		t.Errorf("QGIS counts %d features, read %d (%d distinct); want %d", got.FeatureCount, got.Iterated, got.Distinct, qgisRows)
	}
	for name, want := range map[string]string{"event_id": "String", "event_date": "Date", "fatalities": "Integer",
		"time_precision": "Integer", "geo_precision": "Integer", "updated_at": "DateTime", "notes": "String"} {
		if got.Fields[name] != want {
			t.Errorf("QGIS field %s is %q; want %s (fields %v)", name, got.Fields[name], want, got.Fields)
		}
	}
	if got.CRS != "EPSG:4326" {
		t.Errorf("QGIS layer CRS %q; want EPSG:4326", got.CRS)
	}
	ids := func(query string) []int64 {
		return srv.AllIDs(t, "/collections/incidents/items?limit=10000&sortby=id&"+query)
	}
	if want := ids("bbox=" + bbox); len(want) == 0 || !slices.Equal(got.BBox, want) {
		t.Errorf("QGIS bbox %s: %d features; the server's bbox gives %d", bbox, len(got.BBox), len(want))
	}
	if want := ids("filter=" + url.QueryEscape(subset)); len(want) == 0 || !slices.Equal(got.Subset, want) || got.SubsetCount != len(want) {
		t.Errorf("QGIS subset %q: %d features (count %d); filter= gives %d", subset, len(got.Subset), got.SubsetCount, len(want))
	}
	t.Logf("QGIS: %d features, bbox %d, subset %d (%s)", got.Iterated, len(got.BBox), len(got.Subset), strconv.Quote(subset))
}
