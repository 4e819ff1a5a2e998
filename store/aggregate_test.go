package store_test

import (
	"context"
	"fmt"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/synth"
)

// TestDailyStatsFollowWrites: aggregations answered from the daily counts
// (filters of dates and types only) equal the same ones read from the
// incidents (a no-op fatality bound sends them there) after a bulk load,
// upserts, updates that move incidents between days and types, and deletes.
func TestDailyStatsFollowWrites(t *testing.T) {
	ctx := context.Background()
	st := testsrv.Open(t)
	var incs []incident.Incident
	for i := 1; i <= 3000; i++ {
		incs = append(incs, synth.Incident(7, i))
	}
	// The first import into an empty table is a bulk load (triggers off).
	if _, err := st.Upsert(ctx, incs[:2000]); err != nil {
		t.Fatal(err)
	}
	compare := func(stage string) {
		t.Helper()
		zero := 0
		for _, tc := range []struct {
			keys []incident.GroupKey
			f    incident.Filter
		}{
			{[]incident.GroupKey{incident.GroupMonth, incident.GroupEventType}, incident.Filter{}},
			{[]incident.GroupKey{incident.GroupWeek}, incident.Filter{EventTypes: []string{"Battles", "Riots"}}},
			{[]incident.GroupKey{incident.GroupDay, incident.GroupSubEventType}, incident.Filter{Interval: mustInterval(t, "2020-01-01/2020-06-30")}},
			{[]incident.GroupKey{incident.GroupYear}, incident.Filter{Equals: []incident.Equal{{Field: "event_type", Value: "Protests"}}}},
			{[]incident.GroupKey{incident.GroupEventType, incident.GroupSubEventType}, incident.Filter{}},
		} {
			daily, err := st.Aggregate(ctx, tc.f, tc.keys, 0)
			if err != nil {
				t.Fatalf("%s: %v", stage, err)
			}
			viaIndex := tc.f
			viaIndex.MinFatalities = &zero
			want, err := st.Aggregate(ctx, viaIndex, tc.keys, 0)
			if err != nil {
				t.Fatalf("%s: %v", stage, err)
			}
			if daily.Count == 0 || fmt.Sprint(daily) != fmt.Sprint(want) {
				t.Fatalf("%s, %v %+v: daily counts give %d incidents in %d groups, the incidents %d in %d\n%v\n%v",
					stage, tc.keys, tc.f, daily.Count, len(daily.Groups), want.Count, len(want.Groups), daily.Groups[:min(5, len(daily.Groups))], want.Groups[:min(5, len(want.Groups))])
			}
		}
	}
	compare("after the bulk load")
	if _, err := st.Upsert(ctx, incs[2000:]); err != nil {
		t.Fatal(err)
	}
	compare("after an upsert")
	for id := int64(1); id <= 300; id++ {
		if _, err := st.UpdateIncident(ctx, id, "test", func(cur incident.Incident) (incident.Incident, error) {
			cur.EventDate = fmt.Sprintf("2020-0%d-1%d", 1+id%9, id%10)
			cur.EventType, cur.SubEventType, cur.Fatalities = "Riots", "Mob violence", int(id%7)
			return cur, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	compare("after updates")
	for id := int64(301); id <= 700; id++ {
		if _, err := st.DeleteIncident(ctx, id, "test", nil); err != nil {
			t.Fatal(err)
		}
	}
	compare("after deletes")
}

func mustInterval(t *testing.T, s string) incident.Interval {
	t.Helper()
	iv, err := incident.ParseInterval(s)
	if err != nil {
		t.Fatal(err)
	}
	return iv
}
