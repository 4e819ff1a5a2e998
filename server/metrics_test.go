package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

// TestMetricsLabelsSurviveReusedBuffers replays the attack of issue 15: on
// one keep-alive connection, a refused POST and then a GET, twice. The method
// label was a view into fasthttp's request buffer, which the next request on
// the connection overwrote ("GETT", "PAT"), and Prometheus then refused to
// gather ("collected before"): /metrics answered 500 until a restart. Every
// label must be a known value and /metrics must keep answering.
func TestMetricsLabelsSurviveReusedBuffers(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	roundTrip := func(req string) int {
		t.Helper()
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 2 {
		for _, req := range []string{
			"POST /collections/incidents/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/geo+json\r\nContent-Length: 2\r\n\r\n{}",
			"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
			"PATCH /collections/incidents/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
			"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
			"PATCHED /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
			"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
		} {
			roundTrip(req)
		}
	}
	for i := range 3 {
		status, _, body := srv.Get(t, "/metrics")
		if status != http.StatusOK {
			t.Fatalf("/metrics (%d) answered %d: %.300s", i, status, body)
		}
		known := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true,
			"DELETE": true, "OPTIONS": true, "OTHER": true}
		methods := regexp.MustCompile(`incidentmap_http_requests_total\{[^}]*method="([^"]*)"`).FindAllStringSubmatch(string(body), -1)
		if len(methods) == 0 {
			t.Fatalf("no request counters in /metrics")
		}
		seen := map[string]bool{}
		for _, m := range methods {
			if !known[m[1]] {
				t.Errorf("method label %q is not a known method", m[1])
			}
			seen[m[1]] = true
		}
		for _, want := range []string{"GET", "POST", "PATCH"} {
			if !seen[want] {
				t.Errorf("no counter with method %q; labels: %v", want, seen)
			}
		}
		if !strings.Contains(string(body), `method="GET",route="/healthz",status="200"`) {
			t.Errorf("no counter of GET /healthz 200")
		}
	}
}
