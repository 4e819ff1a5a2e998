package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"

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

	// The SQLite copy was loaded in bulk (indexes and triggers dropped, the
	// full text, daily counts and tile pre-aggregates built from the rows):
	// it passes its checks and answers as its source does.
	if err := run(ctx, []string{"check", "--db", back}, &out, &errb); err != nil {
		t.Fatalf("check %s: %v\n%s", back, err, out.String())
	}
	answers := map[string]string{}
	for _, db := range []string{src, back} {
		s, err := openStore(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.Count(ctx, incident.Filter{Text: []incident.Term{{Text: "Mosul"}}})
		if err != nil {
			t.Fatal(err)
		}
		grid, err := s.TileGrid(ctx, incident.Filter{}, maptile.New(39, 25, 6))
		if err != nil {
			t.Fatal(err)
		}
		agg, err := s.Aggregate(ctx, incident.Filter{}, []incident.GroupKey{"month", "event_type"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		b, _ := json.Marshal([]any{n, grid, agg})
		answers[db] = string(b)
	}
	if answers[src] != answers[back] || len(answers[src]) < 1000 {
		t.Fatalf("the copy answers differently:\nsource %.300s\ncopy   %.300s", answers[src], answers[back])
	}

	// GeoPackages: the same bytes from each engine but for one value, the
	// time of writing in gpkg_contents.last_change, which the GeoPackage
	// standard asks for (so two exports a millisecond apart differ there
	// and nowhere else). The canonical form blanks that value where it
	// stands; every other byte must be equal.
	var want []byte
	for i, db := range []string{src, pg, back} {
		path := filepath.Join(dir, fmt.Sprintf("export%d.gpkg", i))
		if err := run(ctx, []string{"export", "--db", db, "--format", "gpkg", "--out", path}, &out, &errb); err != nil {
			t.Fatalf("export gpkg %s: %v", db, err)
		}
		got := canonicalGPKG(t, path)
		if i == 0 {
			want = got
			continue
		}
		if !bytes.Equal(got, want) {
			n := 0
			for n < len(got) && n < len(want) && got[n] == want[n] {
				n++
			}
			t.Fatalf("GeoPackage of %s differs from SQLite's at byte %d of %d (%d)", db, n, len(got), len(want))
		}
	}

	// The load turned the incidents' triggers off and dropped indexes: both
	// are back, and the sequences go on after the copied rows.
	e, err := openEngine(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	v0, err := e.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.UpdateIncident(ctx, 7, "bob", func(c incident.Incident) (incident.Incident, error) {
		c.Fatalities++
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	v1, err := e.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := e.History(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Seq != v0.Seq+1 || len(hist) != 1 || hist[0].ChangedBy != "bob" {
		t.Fatalf("a write after the migration: data version %d → %d, history %+v; want one more and one version by bob", v0.Seq, v1.Seq, hist)
	}
	created, err := e.CreateIncident(ctx, incident.Incident{EventID: "AFTER-MIGRATE", EventDate: "2024-01-02", EventType: "Riots", TimePrecision: 1, GeoPrecision: 1, Lon: 44.4, Lat: 33.3})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID <= 20012 || created.Admin1 != "Baghdad" {
		t.Fatalf("created after the migration: id %d, admin1 %q; want an id above every copied one and Baghdad by the spatial join", created.ID, created.Admin1)
	}
}

// canonicalGPKG is a GeoPackage's bytes with its last_change timestamp
// replaced by zero bytes where it stands.
func canonicalGPKG(t *testing.T, path string) []byte {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var stamp string
	err = db.QueryRow("SELECT CAST(last_change AS TEXT) FROM gpkg_contents WHERE table_name = 'incidents'").Scan(&stamp)
	db.Close()
	if err != nil || len(stamp) < 20 {
		t.Fatalf("%s: last_change %q: %v", path, stamp, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte(stamp)) != 1 {
		t.Fatalf("%s: last_change %q stands %d times in the file", path, stamp, bytes.Count(b, []byte(stamp)))
	}
	return bytes.Replace(b, []byte(stamp), make([]byte, len(stamp)), 1)
}
