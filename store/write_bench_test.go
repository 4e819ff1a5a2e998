package store_test

import (
	"context"
	"fmt"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
)

// BenchmarkCreateIncident measures one API create: a transaction with the
// event_id check, the new-id lookup, the insert and its triggers.
func BenchmarkCreateIncident(b *testing.B) {
	ctx := context.Background()
	st := testsrv.Open(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.CreateIncident(ctx, newIncident(fmt.Sprintf("B-%d", i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateIncident measures one API update, history row included.
func BenchmarkUpdateIncident(b *testing.B) {
	ctx := context.Background()
	st := testsrv.Open(b)
	inc, err := st.CreateIncident(ctx, newIncident("B-1"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.UpdateIncident(ctx, inc.ID, "bench", func(cur incident.Incident) (incident.Incident, error) {
			cur.Fatalities = i + 1
			return cur, nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}
