package store_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/store"
	"incidentmap/synth"
)

// pageOf reads a page of f and the cursor's Matched after the rows.
func pageOf(t *testing.T, st *store.SQLite, f incident.Filter) ([]int64, int64) {
	t.Helper()
	cur, err := st.Incidents(context.Background(), f, true)
	if err != nil {
		t.Fatalf("incidents: %v", err)
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

// TestDeferredCountsAreRightOrAbsent is issue 16's rule for numberMatched on
// large tables: a page whose count is not at hand goes without it (-1) while
// the count runs in the background, the next request of the filter gets the
// exact number, counts daily_stats answers are always there, and the pages
// are the same rows whichever way they were planned.
func TestDeferredCountsAreRightOrAbsent(t *testing.T) {
	gate := make(chan struct{})
	st := testsrv.OpenSynthetic(t, 20000, store.WithCountDeferral(1, gate))
	ctx := context.Background()
	three, forty := 3, 40
	cases := []struct {
		name string
		f    incident.Filter
	}{
		{"common type, fatality bound (walks ids)", incident.Filter{EventTypes: []string{"Battles"}, MinFatalities: &three}},
		{"rare fatality bound (through the index)", incident.Filter{MinFatalities: &forty}},
		{"region, offset", incident.Filter{Regions: []string{"Anbar"}, Offset: 200}},
	}
	for _, c := range cases {
		f := c.f
		f.Limit, f.MayDeferCount = 100, true
		ids, matched := pageOf(t, st, f)
		if matched != -1 {
			t.Errorf("%s: the count is held back, yet Matched is %d", c.name, matched)
		}
		// The same page counted first (and so planned from the number).
		exactFilter := f
		exactFilter.MayDeferCount = false
		want, wantN := pageOf(t, st, exactFilter)
		if len(want) != 100 || !slices.Equal(ids, want) {
			t.Errorf("%s: page without the count %v…, with it %v… (%d and %d rows)", c.name, head(ids), head(want), len(ids), len(want))
		}
		// Now cached: a deferred page has it at once.
		if _, n := pageOf(t, st, f); n != wantN {
			t.Errorf("%s: after the count, Matched %d, want %d", c.name, n, wantN)
		}
	}

	// Dates and types: daily_stats answers, nothing is deferred.
	year := incident.Filter{EventTypes: []string{"Riots"}, Limit: 100, MayDeferCount: true}
	year.Interval, _ = incident.ParseInterval("2021-01-01/2021-12-31")
	_, n := pageOf(t, st, year)
	zero := 0
	exact, err := st.Count(ctx, incident.Filter{EventTypes: []string{"Riots"}, Interval: year.Interval, MinFatalities: &zero})
	if err != nil {
		t.Fatal(err)
	}
	if n != exact || n == 0 {
		t.Errorf("Riots in 2021 from daily_stats: %d, counted %d", n, exact)
	}

	// A held count finishes in the background once let go: the next page has
	// the number without counting in the request.
	ahead := incident.Filter{SubEventTypes: []string{"Armed clash"}, MinFatalities: &three, Limit: 100, MayDeferCount: true}
	if _, n := pageOf(t, st, ahead); n != -1 {
		t.Fatalf("held: Matched %d", n)
	}
	close(gate)
	huge := 1 << 30
	want, err := st.Count(ctx, incident.Filter{SubEventTypes: []string{"Armed clash"}, MinFatalities: &three, MaxFatalities: &huge})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, n := pageOf(t, st, ahead)
		if n == want {
			break
		}
		if n != -1 {
			t.Fatalf("background count: Matched %d, want %d", n, want)
		}
		if time.Now().After(deadline) {
			t.Fatal("the background count never reached the cache")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func head(ids []int64) []int64 { return ids[:min(len(ids), 5)] }

// TestIDWalkChecksWhereTheMatchesAre: a page whose count says "walk the ids"
// must not walk when the matches are not spread over the ids — data loaded
// in date order keeps the last two years in the last ids, and walking from
// the first id would read the whole table for a page of them.
func TestIDWalkChecksWhereTheMatchesAre(t *testing.T) {
	st := testsrv.Open(t)
	ctx := context.Background()
	var all []incident.Incident
	if err := synth.Batches(1, 30000, 1000, func(incs []incident.Incident) error {
		all = append(all, incs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(all, func(a, b incident.Incident) int { return strings.Compare(a.EventDate, b.EventDate) })
	if _, err := st.Import(ctx, false, func(w incident.ImportWriter) error {
		for i := range all {
			if err := w.Put(&all[i], 0); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	last := all[len(all)-1].EventDate[:4]
	year, _ := strconv.Atoi(last)
	f := incident.Filter{Limit: 100}
	f.Interval, _ = incident.ParseInterval(fmt.Sprintf("%d-01-01/%s-12-31", year-1, last))
	n, err := st.Count(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if float64(n)*float64(n) < 4*100*float64(len(all)) {
		t.Fatalf("%d matches: too few for the count alone to choose the walk; the test checks nothing", n)
	}
	page, _, err := st.QueryPlan(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range page {
		if strings.TrimSpace(p) == "SCAN i" {
			t.Fatalf("the page of the last two years (%d matches, all in the last ids) walks the ids from the first:\n%s", n, strings.Join(page, "\n"))
		}
	}
	// The walk is bounded to the first ids and the index path gives the
	// rest of the page: every page, at any offset, in either mode, is the
	// slice of every match (read without a limit, so without a walk).
	battles := f
	battles.Equals = []incident.Equal{{Field: "event_type", Value: "Battles"}}
	recent := incident.Filter{}
	recent.Interval, _ = incident.ParseInterval(last + "-06-01/..")
	for _, f := range []incident.Filter{f, battles, {Equals: battles.Equals}, recent} {
		f.Limit = 0
		want, _ := ids(t, st, f)
		for _, off := range []int{0, 1, 99, 100, 250, len(want) / 2, len(want) - 150, len(want) - 30, len(want) - 1} {
			for _, deferred := range []bool{false, true} {
				f.MayDeferCount = deferred
				f.Limit, f.Offset = 100, max(off, 0)
				got, _ := ids(t, st, f)
				end := min(max(off, 0)+100, len(want))
				if !slices.Equal(got, want[max(off, 0):end]) {
					t.Errorf("%+v, offset %d (count deferred %v): %d ids %v…, want %d %v…",
						f, off, deferred, len(got), got[:min(len(got), 3)], end-max(off, 0), want[max(off, 0):min(end, max(off, 0)+3)])
				}
			}
		}
	}
}
