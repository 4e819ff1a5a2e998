package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"incidentmap/incident"
)

// TestCursorBatches: a cursor over more rows than several batches hold
// (the rows come from SQLite in batches, read ahead on another goroutine)
// gives every incident once, in order, equal to the single-row read; a
// cursor closed early, or whose context ends, stops its read-ahead and
// leaves the store's connections usable.
func TestCursorBatches(t *testing.T) {
	st, incs := openSynthetic(t, 3000)
	ctx := context.Background()
	// Long notes push rows over several 256 KB batches and one row over the
	// first batch's 64 KB.
	big := incs[1500]
	big.Notes = strings.Repeat("long note ", 6000)
	if _, err := st.Upsert(ctx, []incident.Incident{big}); err != nil {
		t.Fatal(err)
	}
	cur, err := st.Incidents(ctx, incident.Filter{}, true)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var last int64
	for cur.Next() {
		inc := *cur.Incident()
		if inc.ID <= last {
			t.Fatalf("id %d after %d", inc.ID, last)
		}
		last = inc.ID
		if n%97 == 0 || inc.EventID == big.EventID {
			one, err := st.Incident(ctx, inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if one != inc {
				t.Fatalf("row %d read in a batch:\n%+v\nread alone:\n%+v", n, inc, one)
			}
		}
		n++
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if err := cur.Close(); err != nil {
		t.Fatal(err)
	}
	if n != 3000 || cur.Matched() != 3000 {
		t.Fatalf("%d rows, matched %d; want 3000", n, cur.Matched())
	}

	// Closed after a few rows, with the read-ahead running: many times over,
	// more than the pool has connections.
	for i := 0; i < 20; i++ {
		cur, err := st.Incidents(ctx, incident.Filter{}, false)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 300 && cur.Next(); k++ {
		}
		if err := cur.Close(); err != nil {
			t.Fatalf("close early: %v", err)
		}
	}

	// A context that ends mid-read ends the read with an error.
	cctx, cancel := context.WithCancel(ctx)
	cur, err = st.Incidents(cctx, incident.Filter{}, false)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for cur.Next() {
		if k++; k == 10 {
			cancel()
		}
	}
	if k >= 3000 {
		t.Errorf("read all %d rows after the context ended", k)
	}
	if err := cur.Err(); err == nil || !(errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "interrupt")) {
		t.Errorf("error after the context ended: %v", err)
	}
	cur.Close()
	cancel()

	if c, err := st.Count(ctx, incident.Filter{}); err != nil || c != 3000 {
		t.Fatalf("count after: %d, %v", c, err)
	}
}
