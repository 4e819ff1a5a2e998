package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"incidentmap/internal/testsrv"
	"incidentmap/server"
)

const newFeature = `{"type":"Feature","geometry":{"type":"Point","coordinates":[44.0091,36.1901]},
	"properties":{"event_id":"API-1","event_date":"2021-07-06","event_type":"Explosions/Remote violence",
	"sub_event_type":"Air/drone strike","location":"Erbil airport","fatalities":0,"notes":"drone"}}`

// writer is a test server with a write token.
type writer struct {
	srv   *testsrv.Server
	token string
}

func startWriter(t *testing.T) writer {
	t.Helper()
	srv := testsrv.StartSeeded(t)
	tok, err := srv.Store.CreateToken(context.Background(), "tester")
	if err != nil {
		t.Fatal(err)
	}
	return writer{srv, tok}
}

// send makes a request with the token (unless token is "") and a body of ctype.
func (w writer) send(t *testing.T, method, path, ctype, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	h := map[string]string{}
	if w.token != "" {
		h["Authorization"] = "Bearer " + w.token
	}
	if ctype != "" {
		h["Content-Type"] = ctype
	}
	for k, v := range hdr {
		h[k] = v
	}
	var r *strings.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	if r == nil {
		return do(t, method, w.srv.URL+path, nil, h)
	}
	return do(t, method, w.srv.URL+path, r, h)
}

type wfeature struct {
	ID         int64 `json:"id"`
	Geometry   struct{ Coordinates []float64 }
	Properties map[string]any `json:"properties"`
}

func decodeWFeature(t *testing.T, b []byte) wfeature {
	t.Helper()
	var f wfeature
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("not a feature (%v): %s", err, b)
	}
	return f
}

func TestWritesNeedAToken(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	anon := writer{srv: srv}
	// No token exists at all: writes are off, with a message saying how to turn them on.
	resp, body := anon.send(t, "POST", "/collections/incidents/items", "application/geo+json", newFeature, nil)
	jsonError(t, resp, body, http.StatusMethodNotAllowed, "WritesDisabled")
	if !strings.Contains(string(body), "incidentmap token create") {
		t.Fatalf("disabled writes do not say how to enable them: %s", body)
	}
	tok, err := srv.Store.CreateToken(context.Background(), "tester")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, auth string
	}{
		{"no header", ""},
		{"wrong token", "Bearer imk_wrong"},
		{"wrong scheme", "Basic " + tok},
		{"empty bearer", "Bearer "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/geo+json"}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			for _, m := range []struct{ method, path string }{
				{"POST", "/collections/incidents/items"}, {"PUT", "/collections/incidents/items/1"},
				{"PATCH", "/collections/incidents/items/1"}, {"DELETE", "/collections/incidents/items/1"},
			} {
				resp, body := do(t, m.method, srv.URL+m.path, strings.NewReader(newFeature), h)
				jsonError(t, resp, body, http.StatusUnauthorized, "Unauthorized")
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("%s %s: WWW-Authenticate %q", m.method, m.path, resp.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	// Nothing was written; reads stay open without a token.
	var fc struct{ NumberMatched int }
	srv.GetJSON(t, "/collections/incidents/items", 200, &fc)
	if fc.NumberMatched != 13 {
		t.Fatalf("after refused writes numberMatched = %d, want 13", fc.NumberMatched)
	}
	// A revoked token is refused, and with no valid token left writes are off again.
	if err := srv.Store.RevokeToken(context.Background(), "tester"); err != nil {
		t.Fatal(err)
	}
	resp, body = writer{srv, tok}.send(t, "DELETE", "/collections/incidents/items/1", "", "", nil)
	jsonError(t, resp, body, http.StatusMethodNotAllowed, "WritesDisabled")
}

func TestCreateReplacePatchDelete(t *testing.T) {
	w := startWriter(t)
	resp, body := w.send(t, "POST", "/collections/incidents/items", "application/geo+json", newFeature, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	created := decodeWFeature(t, body)
	if created.ID != 14 || created.Properties["admin1"] != "Erbil" || created.Properties["region"] != "Kurdistan Region" {
		t.Fatalf("created %+v; want id 14 in Erbil, Kurdistan Region", created)
	}
	loc := resp.Header.Get("Location")
	if loc != w.srv.URL+"/collections/incidents/items/14" {
		t.Fatalf("Location %q", loc)
	}
	etag := resp.Header.Get("ETag")
	// GET gives the same strong ETag.
	get, gbody := do(t, "GET", loc, nil, nil)
	if get.StatusCode != 200 || get.Header.Get("ETag") != etag || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("GET %s: %d ETag %q, POST gave %q; %s", loc, get.StatusCode, get.Header.Get("ETag"), etag, gbody)
	}
	if nm, _ := do(t, "GET", loc, nil, map[string]string{"If-None-Match": etag}); nm.StatusCode != http.StatusNotModified {
		t.Fatalf("GET with If-None-Match of the feature's ETag: %d, want 304", nm.StatusCode)
	}

	// The same event_id again is a conflict that points at the existing incident.
	resp, body = w.send(t, "POST", "/collections/incidents/items", "application/geo+json", newFeature, nil)
	jsonError(t, resp, body, http.StatusConflict, "Conflict")
	if resp.Header.Get("Location") != loc {
		t.Fatalf("409 Location %q, want %q", resp.Header.Get("Location"), loc)
	}

	// PATCH with a stale ETag is refused and changes nothing.
	patch := `{"properties":{"fatalities":2,"notes":null,"actor1":"Unidentified"}}`
	resp, body = w.send(t, "PATCH", "/collections/incidents/items/14", "application/merge-patch+json", patch,
		map[string]string{"If-Match": `"0123456789abcdef01234567"`})
	jsonError(t, resp, body, http.StatusPreconditionFailed, "PreconditionFailed")
	// With the current ETag: members given replace, null removes, the rest stays.
	resp, body = w.send(t, "PATCH", "/collections/incidents/items/14", "application/merge-patch+json", patch,
		map[string]string{"If-Match": etag})
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	}
	patched := decodeWFeature(t, body)
	p := patched.Properties
	if p["fatalities"] != 2.0 || p["notes"] != "" || p["actor1"] != "Unidentified" || p["location"] != "Erbil airport" ||
		p["sub_event_type"] != "Air/drone strike" || patched.Geometry.Coordinates[0] != 44.0091 {
		t.Fatalf("patched %+v", patched)
	}
	etag2 := resp.Header.Get("ETag")
	if etag2 == etag || etag2 == "" {
		t.Fatalf("ETag after PATCH %q (before %q): want a new one", etag2, etag)
	}
	// The old ETag is now stale for PUT and DELETE too.
	resp, body = w.send(t, "DELETE", "/collections/incidents/items/14", "", "", map[string]string{"If-Match": etag})
	jsonError(t, resp, body, http.StatusPreconditionFailed, "PreconditionFailed")

	// PUT replaces the whole feature: properties not given fall back to their defaults.
	put := `{"type":"Feature","id":14,"geometry":{"type":"Point","coordinates":[43.1,33.4]},
		"properties":{"event_id":"API-1","event_date":"2021-07-07","event_type":"Riots","admin1":"Anbar"}}`
	resp, body = w.send(t, "PUT", "/collections/incidents/items/14", "application/geo+json", put, map[string]string{"If-Match": etag2})
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	replaced := decodeWFeature(t, body)
	if replaced.Properties["event_type"] != "Riots" || replaced.Properties["fatalities"] != 0.0 ||
		replaced.Properties["location"] != "" || replaced.Properties["region"] != "Anbar" {
		t.Fatalf("replaced %+v", replaced)
	}
	etag3 := resp.Header.Get("ETag")

	resp, body = w.send(t, "DELETE", "/collections/incidents/items/14", "", "", map[string]string{"If-Match": etag3})
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	if st, _, _ := w.srv.Get(t, "/collections/incidents/items/14"); st != 404 {
		t.Fatalf("GET deleted incident: %d, want 404", st)
	}
	resp, body = w.send(t, "DELETE", "/collections/incidents/items/14", "", "", nil)
	jsonError(t, resp, body, http.StatusNotFound, "NotFound")

	// The history keeps every earlier version, newest first, with who changed it.
	var hist struct {
		ID       int64
		Deleted  bool
		Versions []struct {
			Current   bool
			Change    string
			ChangedBy string `json:"changed_by"`
			ChangedAt string `json:"changed_at"`
			Feature   wfeature
		}
	}
	w.srv.GetJSON(t, "/collections/incidents/items/14/history", 200, &hist)
	if hist.ID != 14 || !hist.Deleted || len(hist.Versions) != 3 {
		t.Fatalf("history %+v; want 3 versions of deleted incident 14", hist)
	}
	wantChanges := []string{"deleted", "updated", "updated"}
	wantType := []string{"Riots", "Explosions/Remote violence", "Explosions/Remote violence"}
	wantFatalities := []float64{0, 2, 0}
	for i, v := range hist.Versions {
		if v.Current || v.Change != wantChanges[i] || v.ChangedBy != "tester" || v.ChangedAt == "" ||
			v.Feature.ID != 14 || v.Feature.Properties["event_type"] != wantType[i] || v.Feature.Properties["fatalities"] != wantFatalities[i] {
			t.Fatalf("history version %d: %+v", i, v)
		}
	}
	// A seed incident never written has only its current version.
	w.srv.GetJSON(t, "/collections/incidents/items/1/history", 200, &hist)
	if hist.Deleted || len(hist.Versions) != 1 || !hist.Versions[0].Current || hist.Versions[0].Feature.ID != 1 {
		t.Fatalf("history of seed incident 1: %+v", hist)
	}
	if st, _, _ := w.srv.Get(t, "/collections/incidents/items/999/history"); st != 404 {
		t.Fatalf("history of an unknown id: %d, want 404", st)
	}
}

func TestWriteValidation(t *testing.T) {
	w := startWriter(t)
	withProps := func(props string) string {
		return `{"type":"Feature","geometry":{"type":"Point","coordinates":[44.3,33.3]},"properties":{` + props + `}}`
	}
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		code, mention                   string
	}{
		{"invalid JSON", "POST", "/collections/incidents/items", "application/geo+json", `{"type":`, 400, "InvalidRequestBody", "JSON"},
		{"not a feature", "POST", "/collections/incidents/items", "application/geo+json", `{"type":"FeatureCollection","features":[]}`, 400, "InvalidRequestBody", "Feature"},
		{"no event_id", "POST", "/collections/incidents/items", "application/geo+json", withProps(`"event_date":"2021-01-01","event_type":"Riots"`), 400, "InvalidRequestBody", "event_id"},
		{"bad date", "POST", "/collections/incidents/items", "application/geo+json", withProps(`"event_id":"V1","event_date":"2021-02-30","event_type":"Riots"`), 400, "InvalidRequestBody", "event_date"},
		{"negative fatalities", "POST", "/collections/incidents/items", "application/geo+json", withProps(`"event_id":"V1","event_date":"2021-02-03","event_type":"Riots","fatalities":-1`), 400, "InvalidRequestBody", "fatalities"},
		{"misspelt property", "POST", "/collections/incidents/items", "application/geo+json", withProps(`"event_id":"V1","event_date":"2021-02-03","event_type":"Riots","fatalites":1`), 400, "InvalidRequestBody", "fatalites"},
		{"line geometry", "POST", "/collections/incidents/items", "application/geo+json", `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{"event_id":"V1","event_date":"2021-02-03","event_type":"Riots"}}`, 400, "InvalidRequestBody", "Point"},
		{"latitude out of range", "POST", "/collections/incidents/items", "application/geo+json", `{"type":"Feature","geometry":{"type":"Point","coordinates":[44,95]},"properties":{"event_id":"V1","event_date":"2021-02-03","event_type":"Riots"}}`, 400, "InvalidRequestBody", "latitude"},
		{"wrong content type", "POST", "/collections/incidents/items", "text/csv", newFeature, 415, "UnsupportedMediaType", "application/geo+json"},
		{"PUT id differs from URL", "PUT", "/collections/incidents/items/2", "application/geo+json", `{"type":"Feature","id":3,"geometry":{"type":"Point","coordinates":[44,33]},"properties":{"event_id":"V1","event_date":"2021-02-03","event_type":"Riots"}}`, 400, "InvalidRequestBody", "id"},
		{"PATCH not an object", "PATCH", "/collections/incidents/items/2", "application/merge-patch+json", `[1]`, 400, "InvalidRequestBody", "object"},
		{"PATCH removes event_type", "PATCH", "/collections/incidents/items/2", "application/merge-patch+json", `{"properties":{"event_type":null}}`, 400, "InvalidRequestBody", "event_type"},
		{"PUT unknown id", "PUT", "/collections/incidents/items/999", "application/geo+json", withProps(`"event_id":"V1","event_date":"2021-02-03","event_type":"Riots"`), 404, "NotFound", "999"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := w.send(t, tc.method, tc.path, tc.ctype, tc.body, nil)
			jsonError(t, resp, body, tc.status, tc.code)
			if !strings.Contains(string(body), tc.mention) {
				t.Fatalf("error %s does not mention %q", body, tc.mention)
			}
		})
	}
	// None of it was written.
	var fc struct{ NumberMatched int }
	w.srv.GetJSON(t, "/collections/incidents/items", 200, &fc)
	if fc.NumberMatched != 13 {
		t.Fatalf("after refused writes numberMatched = %d, want 13", fc.NumberMatched)
	}
}

func TestPatchAdmin1DerivesRegion(t *testing.T) {
	w := startWriter(t)
	resp, body := w.send(t, "POST", "/collections/incidents/items", "application/geo+json", newFeature, nil)
	if resp.StatusCode != 201 || decodeWFeature(t, body).Properties["region"] != "Kurdistan Region" {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	resp, body = w.send(t, "PATCH", "/collections/incidents/items/14", "application/merge-patch+json",
		`{"properties":{"admin1":"Anbar"}}`, nil)
	if p := decodeWFeature(t, body).Properties; resp.StatusCode != 200 || p["admin1"] != "Anbar" || p["region"] != "Anbar" {
		t.Fatalf("PATCH admin1 Anbar: %d %s; want region Anbar", resp.StatusCode, body)
	}
}

func TestPatchToAnotherEventIDConflicts(t *testing.T) {
	w := startWriter(t)
	var one wfeature
	w.srv.GetJSON(t, "/collections/incidents/items/1", 200, &one)
	taken := one.Properties["event_id"].(string)
	resp, body := w.send(t, "PATCH", "/collections/incidents/items/2", "application/merge-patch+json",
		`{"properties":{"event_id":`+strconv.Quote(taken)+`}}`, nil)
	jsonError(t, resp, body, http.StatusConflict, "Conflict")
	if !strings.HasSuffix(resp.Header.Get("Location"), "/collections/incidents/items/1") {
		t.Fatalf("conflict Location %q, want incident 1", resp.Header.Get("Location"))
	}
}

func TestWriteAPIDocumented(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var doc struct {
		Paths      map[string]map[string]json.RawMessage
		Components struct{ SecuritySchemes map[string]any }
	}
	srv.GetJSON(t, "/api", 200, &doc)
	for path, methods := range map[string][]string{
		"/collections/incidents/items":                     {"get", "post"},
		"/collections/incidents/items/{featureId}":         {"get", "put", "patch", "delete"},
		"/collections/incidents/items/{featureId}/history": {"get"},
		"/collections/incidents/events":                    {"get"},
	} {
		for _, m := range methods {
			if _, ok := doc.Paths[path][m]; !ok {
				t.Errorf("/api lacks %s %s", m, path)
			}
		}
	}
	if _, ok := doc.Components.SecuritySchemes["bearerAuth"]; !ok {
		t.Error("/api has no bearer security scheme")
	}
	var conf struct{ ConformsTo []string }
	srv.GetJSON(t, "/conformance", 200, &conf)
	if !strings.Contains(strings.Join(conf.ConformsTo, " "), "ogcapi-features-4/1.0/conf/create-replace-delete") {
		t.Errorf("conformance lacks Part 4 create-replace-delete: %v", conf.ConformsTo)
	}
	// A browser on another origin may send writes (with a token; never a
	// cookie) when the operator lists that origin (see TestCORSWritesOptIn).
	cfg := server.DefaultConfig()
	cfg.CORSWriteOrigins = "https://gis.example.org"
	srv = testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
	resp, _ := do(t, "OPTIONS", srv.URL+"/collections/incidents/items/1", nil, map[string]string{
		"Origin": "https://gis.example.org", "Access-Control-Request-Method": "PATCH",
		"Access-Control-Request-Headers": "authorization,content-type,if-match"})
	if !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PATCH") {
		t.Errorf("preflight for PATCH: %d, Allow-Methods %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Methods"))
	}
}

// TestConcurrentWritesWithOneETag sends many PATCHes based on the same
// version at once: the If-Match check runs inside the write transaction, so
// exactly one wins and the others get 412, and no change is lost silently.
func TestConcurrentWritesWithOneETag(t *testing.T) {
	w := startWriter(t)
	get, _ := do(t, "GET", w.srv.URL+"/collections/incidents/items/3", nil, nil)
	etag := get.Header.Get("ETag")
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, _ := w.send(t, "PATCH", "/collections/incidents/items/3", "application/merge-patch+json",
				`{"properties":{"fatalities":`+strconv.Itoa(100+i)+`}}`, map[string]string{"If-Match": etag})
			statuses <- resp.StatusCode
		}(i)
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[200] != 1 || count[412] != n-1 {
		t.Fatalf("statuses %v; want one 200 and %d 412", count, n-1)
	}
	var hist struct{ Versions []json.RawMessage }
	w.srv.GetJSON(t, "/collections/incidents/items/3/history", 200, &hist)
	if len(hist.Versions) != 2 {
		t.Fatalf("history has %d versions, want 2 (current and the one before the single accepted write)", len(hist.Versions))
	}
}
