package store_test

import (
	"context"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
)

func TestChangeLogAndDataVersion(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	ctx := context.Background()
	v1, err := st.DataVersion(ctx)
	if err != nil || v1.Seq != 13 || v1.At.IsZero() {
		t.Fatalf("data version after seed = %+v, %v; want seq 13", v1, err)
	}
	inc, _ := st.Incident(ctx, 9)
	inc.Notes += " Updated."
	if _, err := st.Upsert(ctx, []incident.Incident{inc}); err != nil {
		t.Fatal(err)
	}
	ch, err := st.Changes(ctx, 13, 10)
	if err != nil || len(ch) != 1 || ch[0].Seq != 14 || ch[0].IncidentID != 9 || ch[0].Op != "updated" || ch[0].EventID != "SEED-IRQ-009" {
		t.Fatalf("changes after 13 = %+v, %v", ch, err)
	}
	if v2, _ := st.DataVersion(ctx); v2.Seq != 14 {
		t.Fatalf("data version after update = %+v; want seq 14", v2)
	}
	// Loading unchanged data changes nothing, so caches stay valid.
	all, _ := st.Changes(ctx, 0, 100)
	if len(all) != 14 || all[0].Op != "created" {
		t.Fatalf("change log has %d entries (first %+v); want 14", len(all), all[0])
	}
}
