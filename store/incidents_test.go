package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"

	"incidentmap/importer"
	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/seed"
	"incidentmap/store"
)

// ids collects the feature ids a filter returns, in order.
func ids(t *testing.T, st *store.SQLite, f incident.Filter) ([]int64, int64) {
	t.Helper()
	cur, err := st.Incidents(context.Background(), f, true)
	if err != nil {
		t.Fatalf("Incidents(%+v): %v", f, err)
	}
	defer cur.Close()
	var out []int64
	for cur.Next() {
		out = append(out, cur.Incident().ID)
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out, cur.Matched()
}

func TestSeedByRegionAndIdempotent(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	ctx := context.Background()
	for region, want := range map[string]int64{"Anbar": 5, "Baghdad": 5, "Kurdistan Region": 3, "Erbil": 3} {
		n, err := st.Count(ctx, incident.Filter{Regions: []string{region}})
		if err != nil || n != want {
			t.Errorf("region %s: %d, %v; want %d", region, n, err, want)
		}
	}
	before, _ := st.Incident(ctx, 5)
	incs, _ := importer.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	res, err := st.Upsert(ctx, incs)
	if err != nil || res.Inserted != 0 || res.Updated != 0 || res.Unchanged != 13 {
		t.Fatalf("second load: %+v, %v; want 13 unchanged", res, err)
	}
	after, _ := st.Incident(ctx, 5)
	if before != after {
		t.Fatalf("second load changed incident 5:\n%+v\n%+v", before, after)
	}
	if n, _ := st.Count(ctx, incident.Filter{}); n != 13 {
		t.Fatalf("after two loads: %d incidents, want 13", n)
	}
}

func TestUpsertUpdatesChangedRowAndIsAllOrNothing(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	ctx := context.Background()
	inc, err := st.Incident(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	inc.Fatalities = 11
	bad := incident.Incident{EventID: "BAD-1", EventDate: "2021-02-30", EventType: "Battles", TimePrecision: 1, GeoPrecision: 1}
	if _, err := st.Upsert(ctx, []incident.Incident{inc, bad}); err == nil {
		t.Fatal("upsert with an invalid date succeeded")
	}
	if got, _ := st.Incident(ctx, 2); got.Fatalities != 10 {
		t.Fatalf("a failed upsert changed incident 2: fatalities %d", got.Fatalities)
	}
	res, err := st.Upsert(ctx, []incident.Incident{inc})
	if err != nil || res.Updated != 1 {
		t.Fatalf("upsert = %+v, %v; want 1 updated", res, err)
	}
	if got, _ := st.Incident(ctx, 2); got.Fatalities != 11 || got.ID != 2 {
		t.Fatalf("incident 2 after update: %+v", got)
	}
}

func TestFilters(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	erbil := orb.Bound{Min: orb.Point{43.5, 35.9}, Max: orb.Point{44.5, 36.5}}
	y2021, _ := incident.ParseInterval("2021-01-01/2021-12-31")
	three := 3
	cases := []struct {
		name    string
		f       incident.Filter
		want    []int64
		matched int64
	}{
		{"bbox Erbil", incident.Filter{BBox: &erbil}, []int64{4, 7, 9}, 3},
		{"year 2021", incident.Filter{Interval: y2021}, []int64{7, 8, 9, 10, 11, 12, 13}, 7},
		{"riots", incident.Filter{EventTypes: []string{"Riots"}}, []int64{1}, 1},
		{"drone strikes", incident.Filter{SubEventTypes: []string{"Air/drone strike"}}, []int64{2, 9, 10, 12}, 4},
		{"at least 3 killed", incident.Filter{MinFatalities: &three}, []int64{2, 5, 12}, 3},
		{"page 2 of 5", incident.Filter{Limit: 5, Offset: 5}, []int64{6, 7, 8, 9, 10}, 13},
		{"2021 in Anbar", incident.Filter{Interval: y2021, Regions: []string{"anbar"}}, []int64{8, 10, 12, 13}, 4},
		{"condition", incident.Filter{Equals: []incident.Equal{{Field: "fatalities", Value: 1}}}, []int64{7, 8}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, matched := ids(t, st, tc.f)
			if !equal(got, tc.want) || matched != tc.matched {
				t.Fatalf("ids %v matched %d; want %v matched %d", got, matched, tc.want, tc.matched)
			}
		})
	}
}

func TestNotFoundAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Incident(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Incident(1) on empty store: %v; want ErrNotFound", err)
	}
	st.Close()
	st, err = store.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	if v, _ := st.Version(ctx); v != store.SchemaVersion() {
		t.Fatalf("schema version %d, want %d", v, store.SchemaVersion())
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
