package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"incidentmap/incident"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"incidentmap/internal/testsrv"
	"incidentmap/store"
)

// page is what the deferred-count test reads of an items response.
type deferredPage struct {
	NumberMatched  *int64 `json:"numberMatched"`
	NumberReturned int    `json:"numberReturned"`
	Features       []struct {
		ID int64 `json:"id"`
	} `json:"features"`
	Links []struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"links"`
}

func (p deferredPage) next() string {
	for _, l := range p.Links {
		if l.Rel == "next" {
			return l.Href
		}
	}
	return ""
}

func getPage(t *testing.T, srv *testsrv.Server, path string) (deferredPage, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	var p deferredPage
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return p, resp.Header.Get("X-Cache")
}

// TestItemsWithoutWaitingForTheCount: on a large table a page whose count
// is not at hand leaves numberMatched out (OGC API – Features allows it)
// instead of a wrong or a slow number, still says whether a next page
// exists, is not kept in the page cache, and once the background count has
// ended the same request carries the exact number.
func TestItemsWithoutWaitingForTheCount(t *testing.T) {
	gate := make(chan struct{})
	st := testsrv.OpenSynthetic(t, 5000, store.WithCountDeferral(1, gate))
	srv := testsrv.Start(t, st, nil)
	three, huge := 3, 1<<30
	// The exact count, through a filter of its own (another cache key).
	want, err := st.Count(context.Background(), incident.Filter{EventTypes: []string{"Battles"}, MinFatalities: &three, MaxFatalities: &huge})
	if err != nil {
		t.Fatal(err)
	}
	const path = "/collections/incidents/items?event_type=Battles&min_fatalities=3&limit=10"
	for i := range 2 {
		p, xc := getPage(t, srv, path)
		if p.NumberMatched != nil {
			t.Fatalf("count held back, yet numberMatched %d", *p.NumberMatched)
		}
		if p.NumberReturned != 10 || len(p.Features) != 10 || p.next() == "" {
			t.Fatalf("page without count: %d returned, next %q", p.NumberReturned, p.next())
		}
		if xc != "MISS" {
			t.Errorf("request %d: X-Cache %q: a page without numberMatched must not be kept", i+1, xc)
		}
	}
	// The last page: fewer rows than the limit and no next link.
	last, _ := getPage(t, srv, fmt.Sprintf("%s&offset=%d", path, want-4))
	if last.NumberReturned != 4 || last.next() != "" {
		t.Errorf("last page: %d returned, next %q; want 4 and none", last.NumberReturned, last.next())
	}
	// Exactly a page left: no next page either.
	end, _ := getPage(t, srv, fmt.Sprintf("%s&offset=%d", path, want-10))
	if end.NumberReturned != 10 || end.next() != "" {
		t.Errorf("page ending at the last match: %d returned, next %q; want 10 and none", end.NumberReturned, end.next())
	}
	// Dates and types are counted from daily_stats, never deferred.
	if p, _ := getPage(t, srv, "/collections/incidents/items?event_type=Battles&datetime=2021-01-01/2021-12-31&limit=10"); p.NumberMatched == nil || *p.NumberMatched == 0 {
		t.Errorf("Battles in 2021: numberMatched %v, want the count from daily_stats", p.NumberMatched)
	}
	close(gate)
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, _ := getPage(t, srv, path)
		if p.NumberMatched != nil {
			if *p.NumberMatched != want {
				t.Fatalf("numberMatched %d, counted %d", *p.NumberMatched, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("numberMatched never came back after the background count")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, xc := getPage(t, srv, path); xc != "HIT" {
		t.Errorf("the counted page again: X-Cache %q, want HIT", xc)
	}
}

// TestItemsHTMLWithoutWaitingForTheCount: the items HTML page follows the
// GeoJSON page's rule: a count not at hand is not waited for (the page says
// it is being counted and still links the next page), and once counted the
// same page gives the exact number.
func TestItemsHTMLWithoutWaitingForTheCount(t *testing.T) {
	gate := make(chan struct{})
	st := testsrv.OpenSynthetic(t, 3000, store.WithCountDeferral(1, gate))
	srv := testsrv.Start(t, st, nil)
	three := 3
	want, err := st.Count(context.Background(), incident.Filter{EventTypes: []string{"Battles"}, MinFatalities: &three})
	if err != nil {
		t.Fatal(err)
	}
	if want < 6 {
		t.Fatalf("only %d Battles with 3 killed: the test needs more than a page", want)
	}
	const path = "/collections/incidents/items?f=html&event_type=Battles&min_fatalities=3&limit=5"
	html := func(path string) string {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return string(b)
	}
	page := html(path)
	if !strings.Contains(page, "still being counted") || strings.Contains(page, "incidents match;") {
		t.Fatalf("count held back, yet the page does not say so:\n%.600s", page)
	}
	if rows := strings.Count(page, "/collections/incidents/items/"); rows < 5 {
		t.Errorf("%d incident links on a page of 5", rows)
	}
	if !strings.Contains(page, "<li>next: ") {
		t.Errorf("no next link on a page without its count (%d match)", want)
	}
	last := html(fmt.Sprintf("%s&offset=%d", path, want-5))
	if strings.Contains(last, "<li>next: ") {
		t.Errorf("the page ending at the last match links a next page")
	}
	close(gate)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(page, fmt.Sprintf("%d incidents match;", want)) {
		if time.Now().After(deadline) {
			t.Fatalf("the exact number %d never came after the background count:\n%.600s", want, page)
		}
		time.Sleep(20 * time.Millisecond)
		page = html(path)
	}
}
