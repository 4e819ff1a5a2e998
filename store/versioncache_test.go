package store_test

import (
	"context"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
)

// Counts, the extent and region counts are cached per data version: a write
// by anyone must show in the next answer.
func TestCachedAnswersFollowWrites(t *testing.T) {
	ctx := context.Background()
	st := testsrv.OpenSeeded(t)
	erbil := incident.Filter{Regions: []string{"Erbil"}}
	n0, err := st.Count(ctx, erbil)
	if err != nil {
		t.Fatal(err)
	}
	ext0, err := st.Extent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	regs0, err := st.Regions(ctx, incident.RegionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	// Asked again with nothing changed: the same answers.
	if n, _ := st.Count(ctx, erbil); n != n0 {
		t.Fatalf("count again = %d, want %d", n, n0)
	}
	far := incident.Incident{EventID: "CACHE-1", EventDate: "2022-02-02", EventType: "Protests",
		Admin1: "Erbil", Lon: 44.2, Lat: 36.4, TimePrecision: 1, GeoPrecision: 1}
	if _, err := st.CreateIncident(ctx, far); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Count(ctx, erbil); err != nil || n != n0+1 {
		t.Fatalf("count after a write = %d (%v), want %d", n, err, n0+1)
	}
	ext, err := st.Extent(ctx)
	if err != nil || ext.Count != ext0.Count+1 {
		t.Fatalf("extent count after a write = %d (%v), want %d", ext.Count, err, ext0.Count+1)
	}
	regs, err := st.Regions(ctx, incident.RegionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range regs {
		got[r.Name] = r.Incidents
	}
	for _, r := range regs0 {
		want := r.Incidents
		if r.Name == "Erbil" {
			want++
		}
		if got[r.Name] != want {
			t.Errorf("region %s after a write: %d incidents, want %d", r.Name, got[r.Name], want)
		}
	}
	// The cached list is not the caller's to change.
	regs[0].Incidents = -5
	if again, _ := st.Regions(ctx, incident.RegionQuery{}); again[0].Incidents == -5 {
		t.Fatal("a caller's change reached the cached region counts")
	}
}
