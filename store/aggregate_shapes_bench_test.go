package store_test

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"incidentmap/cql2"

	"incidentmap/incident"
	"incidentmap/store"
)

// aggregateShapes are the filter shapes an analyst's page and scripts send
// with an aggregation, each with the group keys it is asked with (the
// timeline's month × event_type unless a chart's key says otherwise).
func aggregateShapes() []struct {
	name string
	f    incident.Filter
	keys []incident.GroupKey
} {
	month := []incident.GroupKey{incident.GroupMonth, incident.GroupEventType}
	five, three := 5, 3
	year, _ := incident.ParseInterval("2020-01-01/2020-12-31")
	baghdad := orb.Bound{Min: orb.Point{44.2, 33.2}, Max: orb.Point{44.6, 33.5}}
	fat, err := cql2.Parse("fatalities > 3 AND event_type = 'Battles'")
	if err != nil {
		panic(err)
	}
	return []struct {
		name string
		f    incident.Filter
		keys []incident.GroupKey
	}{
		{"all", incident.Filter{}, month},
		{"types+year", incident.Filter{EventTypes: []string{"Battles", "Riots"}, Interval: year}, month},
		{"actors", incident.Filter{Actors: []string{"Kataib Hezbollah"}}, month},
		{"actors+year", incident.Filter{Actors: []string{"Islamic State (Iraq)"}, Interval: year}, month},
		{"regions", incident.Filter{Regions: []string{"Baghdad"}}, month},
		{"regions+year", incident.Filter{Regions: []string{"IQ-AN"}, Interval: year}, month},
		{"q", incident.Filter{Text: []incident.Term{{Text: "Mosul"}}}, month},
		{"bbox", incident.Filter{BBox: &baghdad}, month},
		{"min_fatalities", incident.Filter{MinFatalities: &five}, month},
		{"cql2", incident.Filter{Expr: fat}, month},
		{"equals", incident.Filter{Equals: []incident.Equal{{Field: "admin1", Value: "Basra"}}}, month},
		{"region-chart+actors", incident.Filter{Actors: []string{"Kataib Hezbollah"}}, []incident.GroupKey{incident.GroupRegion}},
		{"actor-chart+regions", incident.Filter{Regions: []string{"Kurdistan Region"}, MinFatalities: &three}, []incident.GroupKey{incident.GroupActor1}},
		{"type-chart+q+bbox", incident.Filter{Text: []incident.Term{{Text: "clashed"}}, BBox: &baghdad}, []incident.GroupKey{incident.GroupEventType}},
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAggregateShapes times each filter shape of an aggregation
// uncached (the store's caches emptied before every run) on the database
// named by INCIDENTMAP_BENCH_DB — a copy: opening migrates it — such as the
// 1,000,000 incidents of `gen --n 1000000 --seed 1`. Without it there is
// nothing to measure.
func BenchmarkAggregateShapes(b *testing.B) {
	path := os.Getenv("INCIDENTMAP_BENCH_DB")
	if path == "" {
		b.Skip("INCIDENTMAP_BENCH_DB names no database")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	for _, c := range aggregateShapes() {
		b.Run(c.name, func(b *testing.B) {
			var n int64
			cpu := cpuTime()
			for b.Loop() {
				st.ForgetCaches()
				a, err := st.Aggregate(ctx, c.f, c.keys, 0)
				if err != nil {
					b.Fatal(err)
				}
				n = a.Count
			}
			b.ReportMetric(float64(n), "incidents")
			// The CPU the process spent a run: on a machine others share, the
			// wall time is mostly waiting for a core.
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
