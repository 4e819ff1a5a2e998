package postgis_test

import (
	"context"
	"testing"
	"time"

	"incidentmap/incident"
	"incidentmap/internal/pgtest"
	"incidentmap/internal/testsrv"
	"incidentmap/postgis"
)

// TestDeferredCountsAreRightOrAbsent: as on SQLite, a server's page
// (MayDeferCount) on a large table does not wait for a long count: its
// Matched is -1 while the background count runs, its rows are the page's,
// and once the count has ended the same filter's page carries the exact
// number; a page that may not defer (a stream, a download) counts first.
func TestDeferredCountsAreRightOrAbsent(t *testing.T) {
	ctx := context.Background()
	gate := make(chan struct{})
	p, err := postgis.Open(ctx, pgtest.DB(t), postgis.WithRegions(testsrv.Regions(t)), postgis.WithCountDeferral(1, gate))
	if err != nil {
		t.Fatalf("open postgis: %v", err)
	}
	defer p.Close()
	seedPostGIS(t, p)
	if _, err := p.DataVersion(ctx); err != nil { // as the server's conditionalGet does first
		t.Fatal(err)
	}
	all := incident.Filter{Regions: []string{"Anbar", "Baghdad"}}
	want, err := p.Count(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if want < 3 {
		t.Fatalf("%d seed incidents in Anbar and Baghdad: the test needs more than a page", want)
	}
	page := func(f incident.Filter) ([]int64, int64) {
		t.Helper()
		cur, err := p.Incidents(ctx, f, true)
		if err != nil {
			t.Fatal(err)
		}
		defer cur.Close()
		var ids []int64
		for cur.Next() {
			ids = append(ids, cur.Incident().ID)
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		return ids, cur.Matched()
	}
	// Another spelling of the same filter, so that no count is cached.
	f := incident.Filter{Regions: []string{"baghdad", "anbar"}, Limit: 2, MayDeferCount: true}
	for range 2 {
		ids, n := page(f)
		if n != -1 || len(ids) != 2 {
			t.Fatalf("count held back: matched %d, %d rows; want -1 and 2", n, len(ids))
		}
	}
	f.MayDeferCount = false
	if _, n := page(f); n != want {
		t.Fatalf("a page that may not defer: matched %d, want %d", n, want)
	}
	// Another filter's count (a bound that changes nothing) is deferred,
	// then let go.
	huge := 1 << 30
	f = incident.Filter{Regions: []string{"Anbar", "Baghdad"}, MaxFatalities: &huge, Limit: 2, MayDeferCount: true}
	if _, n := page(f); n != -1 {
		t.Fatalf("count held back: matched %d", n)
	}
	close(gate)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ids, n := page(f)
		if n >= 0 {
			if n != want || len(ids) != 2 {
				t.Fatalf("after the background count: matched %d, %d rows; want %d and 2", n, len(ids), want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("numberMatched never came after the background count")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
