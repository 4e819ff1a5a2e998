package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"incidentmap/incident"
	"incidentmap/internal/pgtest"
	"incidentmap/internal/testsrv"
	"incidentmap/postgis"
	"incidentmap/synth"
)

// TestReadersAnswerDuringLoads: while an import into an empty table or a
// migration's load runs, readers of the database keep getting answers (the
// data as it was, until the commit) instead of waiting on a table lock.
// The import runs while a reader holds a snapshot of the table open: any
// ACCESS EXCLUSIVE lock (DROP INDEX, TRUNCATE) would wait for that reader
// and the import would not finish (it did, before: it dropped the indexes
// to build them at the end). The migration's load asks another
// server for a count in the middle of the copy.
func TestReadersAnswerDuringLoads(t *testing.T) {
	ctx := context.Background()

	url := pgtest.DB(t)
	// The loads run as commands do (ForCommand): they would drop the
	// indexes if nobody else were connected; here somebody is.
	p := openCommand(t, url)
	reader := openPostGISAt(t, url) // another server on the database
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	held, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var before int64
	if err := held.QueryRow(ctx, "SELECT count(*) FROM incidents").Scan(&before); err != nil {
		t.Fatal(err)
	}
	ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var during int64 = -1
	counts, err := p.Import(ictx, false, func(w incident.ImportWriter) error {
		if err := synth.Batches(11, 3000, 1000, func(b []incident.Incident) error {
			for i := range b {
				if err := w.Put(&b[i], 0); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var err error
		during, err = reader.Count(rctx, incident.Filter{})
		return err
	})
	if err != nil {
		t.Fatalf("import into the empty table while a reader held it open: %v", err)
	}
	if err := held.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if before != 0 || during != 0 || counts.Inserted != 3000 {
		t.Fatalf("counts before %d, during %d, inserted %d; want 0, 0, 3000", before, during, counts.Inserted)
	}
	if n, err := reader.Count(ctx, incident.Filter{}); err != nil || n != 3000 {
		t.Fatalf("after the import another server counts %d (%v); want 3000", n, err)
	}

	// A migration's load into another empty database, asked mid-copy.
	url2 := pgtest.DB(t)
	dst := openCommand(t, url2)
	other := openPostGISAt(t, url2)
	lctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
	defer cancel2()
	during = -1
	err = dst.LoadTables(lctx, func(put func(string, []any) error) error {
		for _, tb := range incident.CopyTables {
			if err := p.DumpTable(ctx, tb.Name, func(row []any) error { return put(tb.Name, row) }); err != nil {
				return err
			}
			if tb.Name == "incidents" {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				var err error
				during, err = other.Count(rctx, incident.Filter{})
				cancel()
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if during != 0 {
		t.Fatalf("mid-load another server counts %d; want 0 (the table as it was)", during)
	}
	if n, err := other.Count(ctx, incident.Filter{}); err != nil || n != 3000 {
		t.Fatalf("after the load another server counts %d (%v); want 3000", n, err)
	}
}

// openCommand opens the PostGIS engine on url as a command does.
func openCommand(t *testing.T, url string) *postgis.PostGIS {
	t.Helper()
	p, err := postgis.Open(context.Background(), url, postgis.WithRegions(testsrv.Regions(t)), postgis.ForCommand())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
