package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"incidentmap/incident"
	"incidentmap/store"
	"incidentmap/synth"
)

// BenchmarkAggregate times the timeline's aggregation, month × event_type
// over every incident, on 50,000 synthetic incidents (synth seed 1, ten
// years, every event type): uncached from the incidents' index (each run a
// new query: a fatality bound above any stored, so every incident still
// counts), uncached from the daily counts (each run a new open date range),
// cached, and the naive GROUP BY on the table's month it replaces.
func BenchmarkAggregate(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	const n = 50000
	incs := make([]incident.Incident, 0, 5000)
	for i := 1; i <= n; i++ {
		incs = append(incs, synth.Incident(1, i))
		if len(incs) == cap(incs) || i == n {
			if _, err := st.Upsert(ctx, incs); err != nil {
				b.Fatal(err)
			}
			incs = incs[:0]
		}
	}
	keys := []incident.GroupKey{incident.GroupMonth, incident.GroupEventType}
	check := func(b *testing.B, a incident.Aggregation) {
		if a.Count != n {
			b.Fatalf("aggregation counts %d, want %d", a.Count, n)
		}
	}
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		bound := 1000000
		for b.Loop() {
			bound++
			a, err := st.Aggregate(ctx, incident.Filter{MaxFatalities: &bound}, keys, 0)
			if err != nil {
				b.Fatal(err)
			}
			check(b, a)
		}
	})
	b.Run("uncached-daily", func(b *testing.B) {
		// dates and types only: read from the daily counts (migration 14);
		// each run a new start before the first incident, so still all of them
		b.ReportAllocs()
		day := 0
		for b.Loop() {
			day++
			iv, err := incident.ParseInterval(fmt.Sprintf("%04d-01-01/..", 1000+day%9000))
			if err != nil {
				b.Fatal(err)
			}
			a, err := st.Aggregate(ctx, incident.Filter{Interval: iv}, keys, 0)
			if err != nil {
				b.Fatal(err)
			}
			check(b, a)
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a, err := st.Aggregate(ctx, incident.Filter{}, keys, 0)
			if err != nil {
				b.Fatal(err)
			}
			check(b, a)
		}
	})
	b.Run("naive-sql", func(b *testing.B) {
		db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		b.ReportAllocs()
		for b.Loop() {
			rows, err := db.QueryContext(ctx, `SELECT substr(event_date, 1, 7), event_type, count(*), sum(fatalities)
				FROM incidents GROUP BY 1, 2`)
			if err != nil {
				b.Fatal(err)
			}
			var total int64
			for rows.Next() {
				var m, t string
				var c, f int64
				if err := rows.Scan(&m, &t, &c, &f); err != nil {
					b.Fatal(err)
				}
				total += c
			}
			rows.Close()
			if total != n {
				b.Fatalf("naive counts %d", total)
			}
		}
	})
}
