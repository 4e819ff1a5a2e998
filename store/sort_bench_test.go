package store_test

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
)

// BenchmarkSortByPage reads the first page of 100 (with its numberMatched)
// in a sortby order over 200,000 synthetic incidents: the deadliest first,
// alone, among one event type and in a country-wide bbox, the newest first
// in that bbox, and the latest edits. Counts are cached per data version, so
// what is measured past the first iteration is the page.
func BenchmarkSortByPage(b *testing.B) {
	st := testsrv.OpenSynthetic(b, 200_000)
	ctx := context.Background()
	iraq := orb.Bound{Min: orb.Point{38.8, 29.0}, Max: orb.Point{48.6, 37.4}}
	cases := []struct {
		name string
		f    incident.Filter
	}{
		{"-fatalities", incident.Filter{Sort: []incident.SortKey{{Field: "fatalities", Desc: true}}}},
		{"-fatalities,Battles", incident.Filter{Sort: []incident.SortKey{{Field: "fatalities", Desc: true}}, EventTypes: []string{"Battles"}}},
		{"-fatalities,bbox", incident.Filter{Sort: []incident.SortKey{{Field: "fatalities", Desc: true}}, BBox: &iraq}},
		{"-event_date,bbox", incident.Filter{Sort: []incident.SortKey{{Field: "event_date", Desc: true}}, BBox: &iraq}},
		{"-updated_at", incident.Filter{Sort: []incident.SortKey{{Field: "updated_at", Desc: true}}}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			f := tc.f
			f.Limit = 100
			for b.Loop() {
				cur, err := st.Incidents(ctx, f, true)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for cur.Next() {
					n++
				}
				if err := cur.Err(); err != nil {
					b.Fatal(err)
				}
				cur.Close()
				if n != 100 {
					b.Fatalf("%d rows", n)
				}
			}
		})
	}
}
