package server_test

import (
	"context"
	"encoding/json"
	"incidentmap/incident"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

func postImport(t *testing.T, s *testsrv.Server, token, query, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/collections/incidents/import"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, b)
	}
	return resp.StatusCode, out
}

func TestImportEndpoint(t *testing.T) {
	s := testsrv.StartSeeded(t)
	ctx := context.Background()
	csvFile, err := os.ReadFile("../importer/testdata/acled-iraq-fixture.csv")
	if err != nil {
		t.Fatal(err)
	}
	// No token configured: imports, like every write, are off.
	if status, body := postImport(t, s, "", "", "text/csv", string(csvFile)); status != http.StatusMethodNotAllowed && status != http.StatusUnauthorized {
		t.Fatalf("without tokens: %d %v", status, body)
	}
	tok, err := s.Store.CreateToken(ctx, "importer")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := postImport(t, s, "", "", "text/csv", string(csvFile)); status != http.StatusUnauthorized {
		t.Fatalf("without a token: %d %v", status, body)
	}
	count := func() int64 {
		n, err := s.Store.Count(ctx, incident.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if status, body := postImport(t, s, tok, "?dry_run=true", "text/csv", string(csvFile)); status != 200 || body["inserted"] != 60.0 || count() != 13 {
		t.Fatalf("dry run: %d %v, %d incidents", status, body, count())
	}
	status, body := postImport(t, s, tok, "", "text/csv; charset=utf-8", string(csvFile))
	if status != 200 || body["inserted"] != 60.0 || body["written"] != true || count() != 73 {
		t.Fatalf("import: %d %v, %d incidents", status, body, count())
	}
	bad := strings.Replace(string(csvFile), ",37.1809,42.7383,", ",37.1809,east,", 1)
	status, body = postImport(t, s, tok, "", "text/csv", bad)
	probs, _ := body["problems"].([]any)
	if status != http.StatusUnprocessableEntity || body["code"] != "InvalidFile" || len(probs) != 1 {
		t.Fatalf("bad file: %d %v", status, body)
	}
	if p := probs[0].(map[string]any); p["row"] != 23.0 || p["field"] != "longitude" || p["value"] != "east" {
		t.Fatalf("problem %v", p)
	}
	seq := "\x1e" + `{"type":"Feature","geometry":{"type":"Point","coordinates":[44.4,33.3]},"properties":{"event_id":"S1","event_date":"2024-01-02","event_type":"Riots"}}` + "\n"
	if status, body := postImport(t, s, tok, "", "application/geo+json-seq", seq); status != 200 || body["inserted"] != 1.0 || count() != 74 {
		t.Fatalf("geojsonseq: %d %v", status, body)
	}
	for _, c := range []struct {
		ct, body string
		want     int
	}{
		{"application/xml", "<a/>", http.StatusUnsupportedMediaType},
		{"application/geo+json", `{"type":"FeatureCollection"}`, http.StatusBadRequest},
		{"text/csv", "a,b\n1,2\n", http.StatusBadRequest},
	} {
		if status, body := postImport(t, s, tok, "", c.ct, c.body); status != c.want || body["code"] == nil {
			t.Errorf("%s %q: %d %v, want %d", c.ct, c.body, status, body, c.want)
		}
	}
	if count() != 74 {
		t.Fatalf("%d incidents after refused imports, want 74", count())
	}
}

// TestImportRefusesTrailingData: a FeatureCollection followed by anything but
// white space was answered 200 with rows:1, the rest silently dropped. It is a
// 400 naming what followed, and nothing is imported.
func TestImportRefusesTrailingData(t *testing.T) {
	s := testsrv.StartSeeded(t)
	tok, err := s.Store.CreateToken(context.Background(), "importer")
	if err != nil {
		t.Fatal(err)
	}
	fc := func(id string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[44.4,33.3]},` +
			`"properties":{"event_id":"` + id + `","event_date":"2021-05-01","event_type":"Riots"}}]}`
	}
	for name, body := range map[string]string{
		"second collection": fc("T-1") + fc("T-2"),
		"bare feature":      fc("T-1") + "\n" + `{"type":"Feature","geometry":null,"properties":{}}`,
		"garbage":           fc("T-1") + " garbage {",
	} {
		status, out := postImport(t, s, tok, "", "application/geo+json", body)
		if status != http.StatusBadRequest || out["code"] != "InvalidFile" ||
			!strings.Contains(out["description"].(string), "after the") {
			t.Errorf("%s: %d %v; want 400 InvalidFile saying what came after", name, status, out)
		}
	}
	if n, err := s.Store.Count(context.Background(), incident.Filter{}); err != nil || n != 13 {
		t.Fatalf("%d incidents after refused imports (%v); want the 13 seed ones", n, err)
	}
	status, out := postImport(t, s, tok, "", "application/geo+json", fc("T-1")+"\n")
	if status != http.StatusOK || out["inserted"] != float64(1) {
		t.Fatalf("collection with a final newline: %d %v", status, out)
	}
}
