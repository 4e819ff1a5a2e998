package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"incidentmap/importer"
	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/seed"
	"incidentmap/server"
	"incidentmap/store"
)

// TestOffsetOverflow: an offset near 2^63 was a 500 (offset+limit wrapped
// negative and the regions page sliced out of range); it is a 400 naming the
// bound, and the largest offset taken gives an empty page.
func TestOffsetOverflow(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	for _, path := range []string{
		"/collections/regions/items?offset=9223372036854775708",
		"/collections/incidents/items?offset=9223372036854775708",
		"/collections/regions/items?offset=9007199254740993",
	} {
		status, _, body := srv.Get(t, path)
		var e struct{ Code, Description string }
		json.Unmarshal(body, &e)
		if status != http.StatusBadRequest || e.Code == "" || !strings.Contains(e.Description, "9007199254740992") {
			t.Errorf("GET %s: %d %s; want 400 naming the largest offset", path, status, body)
		}
	}
	for _, path := range []string{"/collections/regions/items?offset=9007199254740992&limit=10000",
		"/collections/incidents/items?offset=9007199254740992&limit=10000"} {
		var fc struct {
			NumberMatched  int64 `json:"numberMatched"`
			NumberReturned int   `json:"numberReturned"`
			Features       []any `json:"features"`
			Links          []struct{ Rel string }
		}
		srv.GetJSON(t, path, http.StatusOK, &fc)
		if fc.NumberReturned != 0 || len(fc.Features) != 0 || fc.NumberMatched == 0 {
			t.Errorf("GET %s: matched %d returned %d; want an empty page of a non-empty collection", path, fc.NumberMatched, fc.NumberReturned)
		}
		for _, l := range fc.Links {
			if l.Rel == "next" {
				t.Errorf("GET %s: a next link past the end", path)
			}
		}
	}
}

// TestBBoxAntimeridian: bbox=170,-10,-170,10 is the 20° box across ±180
// (OGC API – Features 7.15.3), not a refusal: it holds the incidents at
// 175 and -175 and not the one at 0, in every order and in the count.
func TestBBoxAntimeridian(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	mk := func(id string, lon, lat float64) incident.Incident {
		return incident.Incident{EventID: id, EventDate: "2021-03-01", EventType: "Battles", TimePrecision: 1,
			GeoPrecision: 1, Lon: lon, Lat: lat}
	}
	if _, err := srv.Store.Upsert(context.Background(), []incident.Incident{
		mk("AM-E", 175, 5), mk("AM-W", -175, -5), mk("AM-EDGE", 180, 0), mk("AM-0", 0, 0), mk("AM-N", 175, 20),
	}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"bbox=170,-10,-170,10", "bbox=170,-10,-170,10&sortby=id",
		"bbox=170,-10,0,-170,10,0", "bbox=170,-10,-170,10&f=geojson"} {
		var fc struct {
			NumberMatched int64 `json:"numberMatched"`
			Features      []struct {
				Properties struct {
					EventID string `json:"event_id"`
				}
			}
		}
		path := "/collections/incidents/items?" + q
		if strings.Contains(q, "f=geojson") {
			path = "/collections/incidents/download?" + q
		}
		srv.GetJSON(t, path, http.StatusOK, &fc)
		var got []string
		for _, f := range fc.Features {
			got = append(got, f.Properties.EventID)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != "AM-E,AM-EDGE,AM-W" {
			t.Errorf("%s: got %v, want AM-E, AM-EDGE, AM-W", q, got)
		}
		if !strings.Contains(q, "f=geojson") && fc.NumberMatched != 3 {
			t.Errorf("%s: numberMatched %d, want 3", q, fc.NumberMatched)
		}
	}
	// Regions (Iraq) are nowhere near the antimeridian; a box across it
	// selects none, one around Iraq across it too ("30,…,-170" spans 200°).
	var regs struct {
		NumberMatched int64 `json:"numberMatched"`
	}
	srv.GetJSON(t, "/collections/regions/items?bbox=170,-10,-170,10", http.StatusOK, &regs)
	if regs.NumberMatched != 0 {
		t.Errorf("regions across the antimeridian: %d, want 0", regs.NumberMatched)
	}
	srv.GetJSON(t, "/collections/regions/items?bbox=30,20,-170,40", http.StatusOK, &regs)
	if regs.NumberMatched != 18 {
		t.Errorf("regions in 30..180 ∪ -180..-170: %d, want 18", regs.NumberMatched)
	}
}

// preflight sends a CORS preflight of method from origin.
func preflight(t *testing.T, u, origin, method string) *http.Response {
	t.Helper()
	resp, _ := do(t, "OPTIONS", u, nil, map[string]string{"Origin": origin,
		"Access-Control-Request-Method": method, "Access-Control-Request-Headers": "authorization,content-type"})
	return resp
}

// TestCORSWritesOptIn: reads stay open to any origin, but a preflight of a
// write is granted only to the origins of --cors-write-origins (none by
// default); before, any origin could POST/PUT/PATCH/DELETE with a token.
func TestCORSWritesOptIn(t *testing.T) {
	items := "/collections/incidents/items"
	allowsWrite := func(resp *http.Response, origin, method string) bool {
		ao := resp.Header.Get("Access-Control-Allow-Origin")
		return (ao == "*" || ao == origin) && strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), method) &&
			strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization")
	}
	t.Run("default", func(t *testing.T) {
		srv := testsrv.StartSeeded(t)
		for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			if resp := preflight(t, srv.URL+items, "https://evil.example", m); allowsWrite(resp, "https://evil.example", m) {
				t.Errorf("preflight %s from any origin allowed: %v", m, resp.Header)
			}
		}
		resp := preflight(t, srv.URL+items, "https://gis.example.org", "GET")
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") {
			t.Errorf("preflight GET: %v; want reads open to any origin", resp.Header)
		}
		resp, _ = do(t, "GET", srv.URL+items+"?limit=1", nil, map[string]string{"Origin": "https://gis.example.org"})
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET: Access-Control-Allow-Origin %q, want *", resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("opt-in list", func(t *testing.T) {
		cfg := server.DefaultConfig()
		cfg.CORSWriteOrigins = "https://editor.example.org"
		srv := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
		resp := preflight(t, srv.URL+items+"/1", "https://editor.example.org", "PATCH")
		if !allowsWrite(resp, "https://editor.example.org", "PATCH") {
			t.Errorf("preflight PATCH from the listed origin: %v; want it allowed", resp.Header)
		}
		if resp := preflight(t, srv.URL+items, "https://evil.example", "POST"); allowsWrite(resp, "https://evil.example", "POST") {
			t.Errorf("preflight POST from an unlisted origin allowed: %v", resp.Header)
		}
		// A plain OPTIONS (no preflight) still reaches its route.
		resp, _ = do(t, "OPTIONS", srv.URL+items, nil, nil)
		if resp.StatusCode >= 500 {
			t.Errorf("plain OPTIONS: %d", resp.StatusCode)
		}
	})
	cfg := server.DefaultConfig()
	cfg.CORSWriteOrigins = "https://editor.example.org/path"
	if err := cfg.Validate(); err == nil {
		t.Errorf("a write origin with a path was accepted")
	}
}

// TestForwardedHeadersTrust: X-Forwarded-Proto/-Host from an untrusted
// client do not reach the links (before, "javascript:alert(1)//" did); from
// a configured proxy they do, and a scheme other than http(s) or a host that
// is not a host is a 400.
func TestForwardedHeadersTrust(t *testing.T) {
	evil := map[string]string{"X-Forwarded-Proto": "javascript:alert(1)//", "X-Forwarded-Host": "evil.example"}
	selfLink := func(body []byte) string {
		var doc struct{ Links []struct{ Href, Rel string } }
		json.Unmarshal(body, &doc)
		for _, l := range doc.Links {
			if l.Rel == "self" {
				return l.Href
			}
		}
		return ""
	}
	t.Run("untrusted", func(t *testing.T) {
		srv := testsrv.StartSeeded(t)
		resp, body := do(t, "GET", srv.URL+"/collections?f=json", nil, evil)
		if resp.StatusCode != 200 || selfLink(body) != srv.URL+"/collections" {
			t.Errorf("self link %q (status %d), want %s/collections", selfLink(body), resp.StatusCode, srv.URL)
		}
		got := rawRequest(t, strings.TrimPrefix(srv.URL, "http://"), "GET /collections?f=json HTTP/1.1\r\nHost: javascript:alert(1)//x\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 400") || !strings.Contains(got, `"code":"BadRequest"`) {
			t.Errorf("Host javascript:alert(1)//x answered:\n%s\nwant 400", got)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		cfg := server.DefaultConfig()
		cfg.TrustedProxies = "127.0.0.1"
		srv := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
		_, body := do(t, "GET", srv.URL+"/collections?f=json", nil,
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "maps.example.org"})
		if got := selfLink(body); got != "https://maps.example.org/collections" {
			t.Errorf("self link %q through the proxy, want https://maps.example.org/collections", got)
		}
		resp, body := do(t, "GET", srv.URL+"/collections?f=json", nil, evil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "javascript") {
			t.Errorf("a javascript: scheme from the proxy: %d %s, want 400", resp.StatusCode, body)
		}
		resp, body = do(t, "GET", srv.URL+"/collections?f=json", nil, map[string]string{"X-Forwarded-Host": "x.example/evil?"})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a forwarded host with a path: %d %s, want 400", resp.StatusCode, body)
		}
	})
	cfg := server.DefaultConfig()
	cfg.TrustedProxies = "10.0.0.0/8,not-an-ip"
	if err := cfg.Validate(); err == nil {
		t.Errorf("trusted proxy not-an-ip accepted")
	}
}

// rawRequest sends req on a new connection and returns what comes back
// until the server closes it or 3 s pass.
func rawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(conn)
	return string(b)
}

// TestConflictingContentLength: two Content-Length headers that disagree
// (or one with Transfer-Encoding) are a 400 and the connection closes;
// fasthttp alone took the last one. Nothing is written.
func TestConflictingContentLength(t *testing.T) {
	w := startWriter(t)
	addr := strings.TrimPrefix(w.srv.URL, "http://")
	body := `{"type":"Feature","geometry":{"type":"Point","coordinates":[44,33]},"properties":{"event_id":"CL-1","event_date":"2021-01-01","event_type":"Battles"}}`
	head := "POST /collections/incidents/items HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + w.token +
		"\r\nContent-Type: application/geo+json\r\n"
	for name, hdr := range map[string]string{
		"two lengths":        fmt.Sprintf("Content-Length: 5\r\nContent-Length: %d\r\n", len(body)),
		"length and chunked": fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n", len(body)),
	} {
		t.Run(name, func(t *testing.T) {
			payload := body
			if strings.Contains(hdr, "chunked") {
				payload = fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
			}
			got := rawRequest(t, addr, head+hdr+"\r\n"+payload)
			if !strings.HasPrefix(got, "HTTP/1.1 400") || !strings.Contains(got, `"code":"BadRequest"`) {
				t.Fatalf("answer:\n%s\nwant 400 BadRequest", got)
			}
		})
	}
	// Two equal lengths are one length (RFC 9110 §8.6 allows either); it is written.
	got := rawRequest(t, addr, head+fmt.Sprintf("Content-Length: %d\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), len(body), body))
	if !strings.HasPrefix(got, "HTTP/1.1 201") {
		t.Fatalf("equal lengths: %s", got)
	}
	var fc struct {
		NumberMatched int `json:"numberMatched"`
	}
	w.srv.GetJSON(t, "/collections/incidents/items?event_id=CL-1", http.StatusOK, &fc)
	if fc.NumberMatched != 1 {
		t.Fatalf("CL-1 stored %d times, want once (the refused requests wrote nothing)", fc.NumberMatched)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a new folder and unmounts it
// when the test ends. It needs root (CAP_SYS_ADMIN); elsewhere the test is
// skipped, saying so.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("mounting a %d-byte tmpfs needs root: %v", size, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestDiskFull fills the file system under a served database: writes answer
// 507 StorageFull (before: a generic 500), /readyz turns not ready, every
// acknowledged write is still there, and once there is room again both
// recover by themselves.
func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, 8<<20)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "incidents.db"), store.WithRegions(testsrv.Regions(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	incs, _ := importer.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	if _, err := st.Upsert(ctx, incs); err != nil {
		t.Fatal(err)
	}
	tok, err := st.CreateToken(ctx, "tester")
	if err != nil {
		t.Fatal(err)
	}
	w := writer{testsrv.Start(t, st, nil), tok}

	// Fill what is left.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := filler.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	filler.Close()

	acked := 0
	full := false
	for i := 0; i < 500 && !full; i++ {
		body := fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[44,33]},"properties":{"event_id":"FULL-%d","event_date":"2021-01-01","event_type":"Battles","notes":%q}}`,
			i, strings.Repeat("x", 8000))
		resp, b := w.send(t, "POST", "/collections/incidents/items", "application/geo+json", body, nil)
		switch resp.StatusCode {
		case http.StatusCreated:
			acked++
		case http.StatusInsufficientStorage:
			if codeOf(b) != "StorageFull" || !strings.Contains(string(b), "storage full") {
				t.Fatalf("507 body %s", b)
			}
			full = true
		default:
			t.Fatalf("POST %d on a full disk: %d %s; want 201 or 507", i, resp.StatusCode, b)
		}
	}
	if !full {
		t.Fatalf("500 writes of 8 KB fitted on a full 8 MB file system")
	}
	status, _, body := w.srv.Get(t, "/readyz")
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "storage full") {
		t.Fatalf("/readyz on a full disk: %d %s; want 503 storage full", status, body)
	}
	var fc struct {
		NumberMatched int `json:"numberMatched"`
	}
	w.srv.GetJSON(t, "/collections/incidents/items?limit=1", http.StatusOK, &fc)
	if fc.NumberMatched != 13+acked {
		t.Fatalf("%d incidents stored, want the 13 seeded + %d acknowledged", fc.NumberMatched, acked)
	}

	os.Remove(filepath.Join(dir, "filler"))
	if status, _, body := w.srv.Get(t, "/readyz"); status != http.StatusOK {
		t.Fatalf("/readyz with room again: %d %s", status, body)
	}
	resp, b := w.send(t, "POST", "/collections/incidents/items", "application/geo+json",
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[44,33]},"properties":{"event_id":"FULL-AFTER","event_date":"2021-01-01","event_type":"Battles"}}`, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST with room again: %d %s", resp.StatusCode, b)
	}
	if problems, err := st.Check(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("integrity after the full disk: %v %v", problems, err)
	}
}

// TestRequestTimeoutIs503: database work that outruns --request-timeout is
// overload, not a fault: 503 Timeout with Retry-After (the soak saw 500s for
// writes queued past 30 s on a loaded machine).
func TestRequestTimeoutIs503(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.RequestTimeout = time.Nanosecond
	cfg.WarmTiles = false
	srv := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
	resp, body := do(t, "GET", srv.URL+"/collections/incidents/items?limit=5", nil, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || codeOf(body) != "Timeout" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("items past the request timeout: %d %s Retry-After %q; want 503 Timeout", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
}
