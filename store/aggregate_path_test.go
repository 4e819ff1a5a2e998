package store

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"incidentmap/incident"
	"incidentmap/synth"
)

// TestAggregatePathsAgree: every way an aggregation can read its incidents
// (SQLite's choice, the cell index's ranges of a box, the stats index alone)
// gives the same groups for filters of every kind the stats index holds,
// and the stats path reads that index alone, with no table row.
func TestAggregatePathsAgree(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "paths.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var incs []incident.Incident
	for i := 1; i <= 3000; i++ {
		incs = append(incs, synth.Incident(1, i))
	}
	if _, err := st.Upsert(ctx, incs); err != nil {
		t.Fatal(err)
	}
	five := 5
	year, err := incident.ParseInterval("2019-01-01/2021-12-31")
	if err != nil {
		t.Fatal(err)
	}
	baghdad := orb.Bound{Min: orb.Point{44.0, 33.0}, Max: orb.Point{44.8, 33.6}}
	filters := map[string]incident.Filter{
		"none":         {},
		"actors":       {Actors: []string{"Kataib Hezbollah", "Islamic State (Iraq)"}},
		"actors+year":  {Actors: []string{"Military Forces of Iraq (2014-)"}, Interval: year},
		"regions":      {Regions: []string{"Baghdad", "kurdistan region"}},
		"region code":  {Regions: []string{"IQ-AN"}, Interval: year},
		"bbox":         {BBox: &baghdad},
		"text":         {Text: []incident.Term{{Text: "Mosul"}}},
		"bbox+text":    {BBox: &baghdad, Text: []incident.Term{{Text: "clashed"}}},
		"fatalities":   {MinFatalities: &five, EventTypes: []string{"Battles", "Riots"}},
		"equals":       {Equals: []incident.Equal{{Field: "admin1", Value: "Basra"}}},
		"sub types":    {SubEventTypes: []string{"Armed clash"}, Actors: []string{"Military Forces of Iraq (2014-)"}},
		"actors+bbox":  {BBox: &baghdad, Actors: []string{"Kataib Hezbollah"}},
		"regions+text": {Regions: []string{"Nineveh"}, Text: []incident.Term{{Text: "Mosul"}}},
	}
	keySets := [][]incident.GroupKey{{incident.GroupMonth, incident.GroupEventType}, {incident.GroupRegion}, {incident.GroupActor1}, {incident.GroupWeek, incident.GroupAdmin1}, {incident.GroupSubEventType, incident.GroupActor2}}
	for name, f := range filters {
		for _, keys := range keySets {
			tx, err := st.ro.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			sf, err := compileIn(ctx, tx, f)
			if err != nil {
				t.Fatal(err)
			}
			if !sf.statsCovered() {
				t.Fatalf("%s: the stats index does not cover the filter", name)
			}
			paths := []aggregatePath{viaPlanner, viaStats}
			if sf.bound != nil {
				paths = append(paths, viaRanges)
			}
			var first incident.Aggregation
			for i, path := range paths {
				q, args := aggregateQuery(&sf, keys, path)
				raw, err := aggregateRows(ctx, tx, q, args, len(incident.GroupColumns(keys)))
				if err != nil {
					t.Fatalf("%s %v path %d: %v", name, keys, path, err)
				}
				got := incident.RollUp(raw, incident.GroupColumns(keys), keys)
				if i == 0 {
					first = got
					if got.Count == 0 {
						t.Fatalf("%s %v: nothing matched", name, keys)
					}
					continue
				}
				if !reflect.DeepEqual(got, first) {
					t.Fatalf("%s %v: path %d gives %d groups of %d incidents, SQLite's choice %d of %d", name, keys, path, len(got.Groups), got.Count, len(first.Groups), first.Count)
				}
				if path == viaStats {
					plan, err := explain(ctx, tx, q, args)
					if err != nil {
						t.Fatal(err)
					}
					joined := strings.Join(plan, "\n")
					if !strings.Contains(joined, "COVERING INDEX incidents_stats") || strings.Contains(joined, "PRIMARY KEY") {
						t.Fatalf("%s %v: the stats path plans\n%s", name, keys, joined)
					}
				}
			}
			tx.Rollback()
		}
	}
}
