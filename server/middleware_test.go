package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/server"
	"incidentmap/store"
)

// do sends a request with headers and returns the response and its body.
func do(t *testing.T, method, u string, body io.Reader, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	// Transport without automatic gzip, so the test sees what the server sent.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// jsonError decodes an error body and checks its status and code.
func jsonError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	var e struct{ Code, Description string }
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		json.Unmarshal(body, &e) != nil || e.Code != code || e.Description == "" {
		t.Fatalf("got %d %q %s; want %d JSON error %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, status, code)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSecurityHeadersCORSAndRequestLog(t *testing.T) {
	var logs syncBuffer
	cfg := server.DefaultConfig()
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	srv := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
	resp, _ := do(t, "GET", srv.URL+"/collections/incidents/items?limit=1", nil, map[string]string{"Origin": "https://gis.example.org"})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options":      "nosniff",
		"X-Frame-Options":             "DENY",
		"Access-Control-Allow-Origin": "*",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q; want %q", h, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy %q is not strict", csp)
	}
	rid := resp.Header.Get("X-Request-ID")
	if rid == "" {
		t.Fatal("no X-Request-ID")
	}
	found := false
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, rid) {
			var m map[string]any
			json.Unmarshal([]byte(l), &m)
			found = m["msg"] == "request" && m["method"] == "GET" && m["route"] == "/collections/:collectionId/items" && m["status"] == 200.0
		}
	}
	if !found {
		t.Fatalf("no access log line with request id %s, route and status 200 in:\n%s", rid, logs.String())
	}
}

func TestConditionalGet(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	u := srv.URL + "/collections/incidents/items?region=Anbar"
	resp, _ := do(t, "GET", u, nil, nil)
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if !strings.HasPrefix(etag, `W/"13-`) || lastMod == "" {
		t.Fatalf("ETag %q Last-Modified %q; want a weak tag on data version 13", etag, lastMod)
	}
	resp, body := do(t, "GET", u, nil, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 304 || len(body) != 0 {
		t.Fatalf("If-None-Match current: %d with %d bytes; want 304 and no body", resp.StatusCode, len(body))
	}
	resp, _ = do(t, "GET", u, nil, map[string]string{"If-Modified-Since": lastMod})
	if resp.StatusCode != 304 {
		t.Fatalf("If-Modified-Since current: %d; want 304", resp.StatusCode)
	}
	// Another URL or representation has another tag.
	if r, _ := do(t, "GET", u, nil, map[string]string{"Accept": "text/html"}); r.Header.Get("ETag") == etag {
		t.Fatal("the HTML page has the same ETag as the GeoJSON")
	}
	// A change to the data changes the tag.
	inc, _ := srv.Store.Incident(context.Background(), 3)
	inc.Fatalities = 1
	if _, err := srv.Store.Upsert(context.Background(), []incident.Incident{inc}); err != nil {
		t.Fatal(err)
	}
	resp, body = do(t, "GET", u, nil, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag || !bytes.Contains(body, []byte(`"numberMatched":5`)) {
		t.Fatalf("after a change: %d, ETag %q; want 200 and a new tag", resp.StatusCode, resp.Header.Get("ETag"))
	}
	// Errors carry no validators.
	resp, _ = do(t, "GET", srv.URL+"/collections/incidents/items?limit=0", nil, nil)
	if resp.StatusCode != 400 || resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != "" {
		t.Fatalf("error response: %d with ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
}

func TestGzipOfStreamedItems(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	var incs []incident.Incident
	for i := 0; i < 3000; i++ {
		incs = append(incs, incident.Incident{EventID: fmt.Sprintf("SYN-T-%d", i), EventDate: "2022-01-01", TimePrecision: 1,
			EventType: "Battles", GeoPrecision: 1, Lon: 43 + float64(i%100)/100, Lat: 33 + float64(i/100)/100, Source: "synthetic"})
	}
	if _, err := st.Upsert(context.Background(), incs); err != nil {
		t.Fatal(err)
	}
	srv := testsrv.Start(t, st, nil)
	resp, body := do(t, "GET", srv.URL+"/collections/incidents/items?limit=5000", nil, map[string]string{"Accept-Encoding": "gzip"})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q; want gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	var fc struct {
		NumberMatched, NumberReturned int
		Features                      []json.RawMessage
	}
	if err := json.Unmarshal(plain, &fc); err != nil {
		t.Fatalf("gunzipped body is not JSON: %v", err)
	}
	if fc.NumberMatched != 3013 || fc.NumberReturned != 3013 || len(fc.Features) != 3013 {
		t.Fatalf("matched %d returned %d features %d; want 3013", fc.NumberMatched, fc.NumberReturned, len(fc.Features))
	}
	if len(body)*4 > len(plain) {
		t.Fatalf("gzip saved little: %d → %d bytes", len(plain), len(body))
	}
}

func TestReadyzAndMetrics(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var ready struct {
		Status        string
		SchemaVersion int `json:"schema_version"`
	}
	srv.GetJSON(t, "/readyz", 200, &ready)
	if ready.Status != "ready" || ready.SchemaVersion != store.SchemaVersion() {
		t.Fatalf("readyz %+v", ready)
	}
	srv.Get(t, "/collections/incidents/items?region=Baghdad")
	srv.Get(t, "/collections/nope/items")
	_, ctype, body := srv.Get(t, "/metrics")
	text := string(body)
	if !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("metrics content type %q", ctype)
	}
	for _, want := range []string{
		`incidentmap_http_requests_total{method="GET",route="/collections/:collectionId/items",status="200"} 1`,
		`incidentmap_http_requests_total{method="GET",route="/collections/:collectionId/items",status="404"} 1`,
		`incidentmap_rows_streamed_total 5`,
		`incidentmap_http_request_duration_seconds_bucket{route="/readyz",le="+Inf"} 1`,
		`incidentmap_database_bytes `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestRateLimitBodyLimitAndPanic(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.RateLimit, cfg.RateLimitLoopback = 5, true
	cfg.BodyLimit = 1000
	srv := testsrv.StartWith(t, testsrv.OpenSeeded(t), &cfg, func(app *fiber.App) {
		app.Get("/test/panic", func(c *fiber.Ctx) error { panic("boom") })
	})
	resp, body := do(t, "GET", srv.URL+"/test/panic", nil, nil)
	jsonError(t, resp, body, 500, "InternalServerError")
	if bytes.Contains(body, []byte("boom")) {
		t.Fatal("the panic value leaked to the client")
	}
	resp, body = do(t, "POST", srv.URL+"/collections/incidents/items", strings.NewReader(strings.Repeat("x", 2000)), nil)
	jsonError(t, resp, body, 413, "PayloadTooLarge")
	for i := 0; i < 4; i++ { // with the panic above, 5 reads: the limit
		if r, _ := do(t, "GET", srv.URL+"/healthz", nil, nil); r.StatusCode != 200 {
			t.Fatalf("read %d within the limit: %d", i+2, r.StatusCode)
		}
	}
	resp, body = do(t, "GET", srv.URL+"/healthz", nil, nil)
	jsonError(t, resp, body, 429, "TooManyRequests")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

func TestHostileQueries(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	long := strings.Repeat("a", 10000)
	cases := map[string]int{
		"event_type=" + long: 200, // a valid, if odd, value: no match
		"q=" + long:          400,
		"foo=" + long:        400,
		"bbox=NaN,0,1,1":     400,
		"bbox=0,0,Inf,1":     400,
		"bbox=1e309,0,1,1":   400,
		"datetime=" + url.QueryEscape("2021-01-01\x00"):                     400,
		"region=" + url.QueryEscape("\xff\xfe"):                             200,
		"limit=" + url.QueryEscape("1;DROP TABLE incidents"):                400,
		"event_type=" + url.QueryEscape("x' OR '1'='1"):                     200,
		"region=" + url.QueryEscape("Anbar\"); DELETE FROM incidents; --"):  200,
		"filter=" + url.QueryEscape("fatalities = 0; DROP TABLE incidents"): 400,
		"q=" + url.QueryEscape(`"unterminated OR NEAR(`):                    200,
	}
	for q, want := range cases {
		name := q
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			resp, body := do(t, "GET", srv.URL+"/collections/incidents/items?"+q, nil, nil)
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, want, body)
			}
			if want == 400 {
				jsonError(t, resp, body, 400, codeOf(body))
			} else if !bytes.Contains(body, []byte(`"numberMatched":0`)) && !strings.HasPrefix(q, "q=") {
				t.Fatalf("hostile value matched incidents: %.300s", body)
			}
		})
	}
	if n, err := srv.Store.Count(context.Background(), incident.Filter{}); err != nil || n != 13 {
		t.Fatalf("after hostile queries the store holds %d incidents (%v); want 13", n, err)
	}
}

func codeOf(body []byte) string {
	var e struct{ Code string }
	json.Unmarshal(body, &e)
	return e.Code
}
