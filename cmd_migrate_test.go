package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/pgtest"
	"incidentmap/synth"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestMigrateBothWays copies the seed, 20,000 generated incidents, their
// history, change log and tokens from SQLite to PostGIS and back to a new
// SQLite file: every step verifies counts and checksums, and the three
// databases export the same bytes.
func TestMigrateBothWays(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, back := filepath.Join(dir, "src.db"), filepath.Join(dir, "back.db")
	pg := pgtest.DB(t)
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"seed", "--db", src}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	st, err := openStore(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(ctx, false, func(w incident.ImportWriter) error {
		return synth.Batches(3, 20000, 1000, func(b []incident.Incident) error {
			for i := range b {
				if err := w.Put(&b[i], 0); err != nil {
					return err
				}
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	// History and a gap in the ids: an update and a delete.
	if _, err := st.UpdateIncident(ctx, 5, "alice", func(c incident.Incident) (incident.Incident, error) {
		c.Fatalities++
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteIncident(ctx, 9, "alice", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	for _, step := range [][2]string{{src, pg}, {pg, back}} {
		out.Reset()
		if err := run(ctx, []string{"migrate", "--from", step[0], "--to", step[1]}, &out, &errb); err != nil {
			t.Fatalf("migrate %s → %s: %v\n%s", step[0], step[1], err, errb.String())
		}
		for _, want := range []string{"incidents  20012 rows", "history    2 rows", "change_log 20015 rows", "tokens     1 rows"} {
			if !strings.Contains(out.String(), want) {
				t.Fatalf("migrate printed\n%s\nwithout %q", out.String(), want)
			}
		}
	}
	// Into a database that holds incidents: refused, nothing written.
	if err := run(ctx, []string{"migrate", "--from", src, "--to", pg}, &out, &errb); err == nil ||
		!strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("migrate into a full database: %v", err)
	}
	exports := map[string]string{}
	for _, db := range []string{src, pg, back} {
		var b bytes.Buffer
		if err := run(ctx, []string{"export", "--db", db, "--format", "geojsonseq"}, &b, &errb); err != nil {
			t.Fatalf("export %s: %v", db, err)
		}
		exports[db] = b.String()
	}
	if exports[src] != exports[pg] || exports[src] != exports[back] || len(exports[src]) < 1000 {
		t.Fatalf("exports differ: sqlite %d bytes, postgis %d, back %d", len(exports[src]), len(exports[pg]), len(exports[back]))
	}
}
