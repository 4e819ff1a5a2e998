package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
)

// TestItemsPagesAreCachedPerDataVersion: a page is built once per data
// version and sent with its length; the next asker of the same URL and Accept
// gets the same bytes from memory, and any change to the data builds it anew.
func TestItemsPagesAreCachedPerDataVersion(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	plain := &http.Transport{DisableCompression: true} // the body and length as sent
	defer plain.CloseIdleConnections()
	get := func(path, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := plain.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return resp, string(b)
	}
	const page = "/collections/incidents/items?limit=5&event_type=Explosions/Remote%20violence"
	r1, b1 := get(page, "")
	if r1.Header.Get("X-Cache") != "MISS" || r1.ContentLength != int64(len(b1)) || len(r1.TransferEncoding) > 0 {
		t.Fatalf("first page: X-Cache %q, Content-Length %d for %d bytes, Transfer-Encoding %v; want MISS and the length",
			r1.Header.Get("X-Cache"), r1.ContentLength, len(b1), r1.TransferEncoding)
	}
	r2, b2 := get(page, "")
	if r2.Header.Get("X-Cache") != "HIT" || b2 != b1 || r2.Header.Get("Content-Type") != r1.Header.Get("Content-Type") {
		t.Fatalf("second page: X-Cache %q, same body %v, Content-Type %q; want a HIT with the same bytes",
			r2.Header.Get("X-Cache"), b2 == b1, r2.Header.Get("Content-Type"))
	}
	// Another Accept is another representation: not the cached one.
	if r, _ := get(page, "application/geo+json"); r.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("another Accept: X-Cache %q, want MISS", r.Header.Get("X-Cache"))
	}
	// A change by anyone (here the store directly, as another process would)
	// is a new data version: the page is built again and shows it.
	inc, err := srv.Store.Incident(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	inc.EventType = "Explosions/Remote violence"
	inc.Notes = "changed after the page was cached"
	if _, err := srv.Store.Upsert(context.Background(), []incident.Incident{inc}); err != nil {
		t.Fatal(err)
	}
	r3, b3 := get(page, "")
	if r3.Header.Get("X-Cache") != "MISS" || !strings.Contains(b3, "changed after the page was cached") {
		t.Fatalf("after a change: X-Cache %q, body has the change %v; want MISS and the change",
			r3.Header.Get("X-Cache"), strings.Contains(b3, "changed after the page was cached"))
	}
	// Pages over 1,000 features stream as before, uncached.
	if r, _ := get("/collections/incidents/items?limit=2000", ""); r.Header.Get("X-Cache") != "" {
		t.Fatalf("a page of 2,000: X-Cache %q, want none", r.Header.Get("X-Cache"))
	}
}
