package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"incidentmap/incident"
	"incidentmap/synth"
)

// snapshot is every row of daily_stats and tile_cells, in key order.
func snapshot(t *testing.T, ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) string {
	t.Helper()
	var b strings.Builder
	for _, s := range []string{
		"SELECT event_date, event_type, sub_event_type, n, fatalities FROM daily_stats ORDER BY 1, 2, 3",
		"SELECT level, key, event_type, n, fatalities, lon_sum, lat_sum, id_sum FROM tile_cells ORDER BY 1, 3, 2",
		"SELECT level, period, key, n, fatalities, lon_sum, lat_sum, id_sum FROM tile_periods ORDER BY 1, 2, 3",
	} {
		rows, err := q.QueryContext(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// recounted is snapshot after daily_stats and tile_cells are filled afresh
// by SQL from the incidents (the fill the bulk load used before it counted
// in Go), in a transaction rolled back.
func recounted(t *testing.T, ctx context.Context, s *SQLite) string {
	t.Helper()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM daily_stats", "INSERT INTO daily_stats " + dailyStatsFill,
		"DELETE FROM tile_cells", tileCellsFill(), tileCellsAllFill, "DELETE FROM tile_periods", tilePeriodsFill()} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	return snapshot(t, ctx, tx)
}

// TestBulkAggregatesEqualRecount: the daily counts and tile pre-aggregates
// a bulk load computes in Go are, row for row, those SQL computes from the
// loaded incidents: in one run, in several runs (each added onto the ones
// before), and when a repeated event_id updates an earlier row of the same
// file (the SQL fill then).
func TestBulkAggregatesEqualRecount(t *testing.T) {
	ctx := context.Background()
	defer func(n int) { tileRun = n }(tileRun)
	for _, c := range []struct {
		name   string
		run    int
		repeat bool
	}{{"one run", 1 << 20, false}, {"runs of 700", 700, false}, {"repeated event_id", 1 << 20, true}} {
		t.Run(c.name, func(t *testing.T) {
			tileRun = c.run
			s, err := Open(ctx, filepath.Join(t.TempDir(), "a.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var aggregated bool
			counts, err := s.Import(ctx, false, func(w incident.ImportWriter) error {
				for i := 1; i <= 3000; i++ {
					inc := synth.Incident(3, i)
					if i == 2000 && c.repeat {
						inc = synth.Incident(3, 10)
						inc.Fatalities += 7
						inc.EventType = "Protests"
					}
					if err := w.Put(&inc, 0); err != nil {
						return err
					}
				}
				aggregated = w.(*ImportWriter).bulk.aggregating() != nil
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := (incident.ImportCounts{Inserted: 3000}); c.repeat {
				if counts.Inserted != 2999 || counts.Updated != 1 {
					t.Fatalf("counts %+v, want 2999 inserted and 1 updated", counts)
				}
			} else if counts != want {
				t.Fatalf("counts %+v, want %+v", counts, want)
			}
			if aggregated == c.repeat {
				t.Fatalf("aggregated in Go until the end: %v, want %v", aggregated, !c.repeat)
			}
			got := snapshot(t, ctx, s.db)
			if want := recounted(t, ctx, s); got != want {
				t.Fatalf("after the bulk load:\n%.2000s\nrecounted:\n%.2000s", got, want)
			}
			if strings.Count(got, "\n") < 3000 {
				t.Fatalf("only %d rows", strings.Count(got, "\n"))
			}
		})
	}
}
