package postgis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"incidentmap/incident"
	"incidentmap/internal/pgtest"
	"incidentmap/postgis"
	"incidentmap/synth"
)

// TestCheckFindsBrokenInvariants breaks, one by one, each invariant of the
// PostGIS engine that its schema cannot declare — tile pre-aggregates, cell
// keys, stored words, the full-text and spatial indexes, the change log —
// and sees check report each (it reports none before).
func TestCheckFindsBrokenInvariants(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	p := openPostGISAt(t, url)
	seedPostGIS(t, p)
	if _, err := p.Import(ctx, false, func(w incident.ImportWriter) error {
		return synth.Batches(5, 600, 600, func(b []incident.Incident) error {
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
	check := func() []string {
		t.Helper()
		problems, checked, err := postgis.Check(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(checked, "tile pre-aggregates recounted") {
			t.Fatalf("checked %q", checked)
		}
		return problems
	}
	if problems := check(); len(problems) > 0 {
		t.Fatalf("a sound database: %q", problems)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Pre-aggregates off by one.
	exec(`UPDATE tile_cells SET n = n + 1 WHERE (level, key, event_type) = (SELECT level, key, event_type FROM tile_cells ORDER BY 1, 2, 3 LIMIT 1)`)
	// A cell key that is not its point's (the triggers, which would
	// move its pre-aggregates too, are off for the write).
	exec(`ALTER TABLE incidents DISABLE TRIGGER USER`)
	exec(`UPDATE incidents SET cell = cell # 1 WHERE id = 5`)
	exec(`ALTER TABLE incidents ENABLE TRIGGER USER`)
	// Stored words made by another word function than the one now defined.
	var def string
	if err := conn.QueryRow(ctx, `SELECT pg_get_functiondef('im_words(text)'::regprocedure)`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	exec(`CREATE OR REPLACE FUNCTION im_words(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'other words' $$`)
	exec(`UPDATE incidents SET notes = notes || ' again' WHERE id = 6`)
	exec(def)
	// A row the full-text and spatial indexes never got: both are not
	// ready for inserts while it is written.
	exec(`UPDATE pg_index SET indisready = false WHERE indexrelid IN ('incidents_fts'::regclass, 'incidents_geom'::regclass)`)
	created, err := p.CreateIncident(ctx, incident.Incident{EventID: "UNINDEXED-1", EventDate: "2024-03-04", EventType: "Riots",
		Notes: "Protesters gathered near the ministry", TimePrecision: 1, GeoPrecision: 1, Lon: 44.4, Lat: 33.3})
	if err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE pg_index SET indisready = true WHERE indexrelid IN ('incidents_fts'::regclass, 'incidents_geom'::regclass)`)
	// The change log: an incident without an entry, one whose last entry
	// is a delete, and an id logged as updated that is not stored.
	exec(`DELETE FROM change_log WHERE incident_id = 7`)
	exec(`INSERT INTO change_log (incident_id, event_id, op) VALUES (8, 'x', 'deleted')`)
	exec(`INSERT INTO change_log (incident_id, event_id, op) VALUES (999999, 'gone', 'updated')`)

	problems := check()
	joined := strings.Join(problems, "\n")
	for _, want := range []string{
		"tile_cells: the pre-aggregates differ from a recount",
		"cells: 1 incidents' cell keys are not their points' (incident 5 cell",
		"full text: 1 incidents' stored words are not what their text gives now (ids [6])",
		"full text: the index does not find incidents [" + strconv.FormatInt(created.ID, 10) + "] by their own words",
		"geometry: the spatial index does not find incidents [" + strconv.FormatInt(created.ID, 10) + "] at their points",
		"change log: 1 incidents have no entry (ids [7])",
		"change log: 1 stored incidents' last entry is a delete (ids [8])",
		"change log: 1 incidents are logged as created or updated last but are not stored (ids [999999])",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("check did not report %q; it reported:\n%s", want, joined)
		}
	}
	if len(problems) != 8 {
		t.Errorf("%d problems, want 8:\n%s", len(problems), joined)
	}
}
