package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"incidentmap/cql2"
	"incidentmap/incident"
	"incidentmap/store"
)

// benchWords are the vocabulary of the synthetic notes.
var benchWords = []string{"rocket", "drone", "convoy", "checkpoint", "airport", "base", "embassy", "militia",
	"patrol", "market", "explosion", "shelling", "ambush", "protest", "border", "village", "road", "bridge"}

// syntheticStore is a store of n generated incidents (source "synthetic").
func syntheticStore(b *testing.B, n int) *store.SQLite {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	r := rand.New(rand.NewPCG(1, 2))
	incs := make([]incident.Incident, n)
	for i := range incs {
		notes := ""
		for w := 0; w < 12; w++ {
			notes += benchWords[r.IntN(len(benchWords))] + " "
		}
		incs[i] = incident.Incident{EventID: fmt.Sprintf("SYN-%07d", i), EventDate: "2021-01-01", TimePrecision: 1,
			EventType: "Battles", GeoPrecision: 1, Notes: notes, Source: "synthetic",
			Actor1: "Actor " + benchWords[r.IntN(len(benchWords))], Lon: 40 + r.Float64()*5, Lat: 30 + r.Float64()*7}
	}
	if _, err := st.Upsert(ctx, incs); err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkFullTextSearch compares q= (FTS5, id order and bm25 order) with the
// naive LIKE scan it replaces, on 20,000 synthetic incidents, first page of 100.
func BenchmarkFullTextSearch(b *testing.B) {
	st := syntheticStore(b, 20000)
	fts, _ := incident.ParseText(`"convoy ambush" bridge`)
	naive, err := cql2.Parse(`notes LIKE '%convoy ambush%' AND notes LIKE '%bridge%'`)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, f incident.Filter) {
		b.ReportAllocs()
		for b.Loop() {
			cur, err := st.Incidents(context.Background(), f, true)
			if err != nil {
				b.Fatal(err)
			}
			for cur.Next() {
			}
			if err := cur.Err(); err != nil {
				b.Fatal(err)
			}
			cur.Close()
		}
	}
	b.Run("fts5 by id", func(b *testing.B) { run(b, incident.Filter{Text: fts, Limit: 100}) })
	b.Run("fts5 by relevance", func(b *testing.B) { run(b, incident.Filter{Text: fts, ByRelevance: true, Limit: 100}) })
	b.Run("naive LIKE scan", func(b *testing.B) {
		run(b, incident.Filter{Limit: 100, Expr: naive})
	})
}
