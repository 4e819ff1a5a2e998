package postgis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"incidentmap/geo"
	"incidentmap/incident"
)

// bulkIndexRows is how many new rows an import into an empty table needs to
// gather the planner's statistics before it commits, and to build its
// indexes after the rows rather than with them when it may (bulkAlone).
const bulkIndexRows = 1000

// copyBatch is how many rows the import writer buffers before it copies
// them into the staging table.
const copyBatch = 10000

// stagingColumns are the columns COPY writes to the staging table: the
// order of arrival, the key, the field table's data columns
// (incident.DataColumns), the source's timestamp and the cell key.
var stagingColumns = append(append([]string{"ord", "event_id"}, incident.DataColumns()...), "ts", "cell")

// stagingTable is the DDL of the staging table of stagingColumns.
var stagingTable = func() string {
	cols := make([]string, len(stagingColumns))
	for i, c := range stagingColumns {
		typ := "text"
		switch c {
		case "ord", "ts", "cell":
			typ = "bigint"
		case "lon", "lat":
			typ = "double precision"
		default:
			if f, _ := incident.FieldByName(c); f.Kind == incident.Integer {
				typ = "integer"
			}
		}
		cols[i] = c + " " + typ + " NOT NULL"
	}
	return "CREATE TEMP TABLE staging (" + strings.Join(cols, ", ") + ") ON COMMIT DROP"
}()

// importWriter streams checked rows into a temporary staging table with
// COPY, inside the import's one transaction.
type importWriter struct {
	ctx  context.Context
	tx   pgx.Tx
	rows [][]any
	ord  int64
}

// Check normalizes and validates inc (a *incident.FieldError). Region
// assignment for rows without admin1 is one spatial join over the staging
// table when the import ends.
func (w *importWriter) Check(inc *incident.Incident) error {
	inc.Normalize()
	return inc.Validate()
}

// Put checks inc and stages it with the source's timestamp ts.
func (w *importWriter) Put(inc *incident.Incident, ts int64) error {
	if err := w.Check(inc); err != nil {
		return err
	}
	return w.PutChecked(inc, ts)
}

// PutChecked stages a row Check has accepted.
func (w *importWriter) PutChecked(inc *incident.Incident, ts int64) error {
	w.ord++
	row := make([]any, 0, len(stagingColumns))
	row = append(incident.AppendData(append(row, w.ord, inc.EventID), inc), ts, geo.Cell(inc.Lon, inc.Lat))
	w.rows = append(w.rows, row)
	if len(w.rows) >= copyBatch {
		return w.flush()
	}
	return nil
}

func (w *importWriter) flush() error {
	if len(w.rows) == 0 {
		return nil
	}
	if _, err := w.tx.CopyFrom(w.ctx, pgx.Identifier{"staging"}, stagingColumns, pgx.CopyFromRows(w.rows)); err != nil {
		return fmt.Errorf("import: copy: %w", err)
	}
	w.rows = w.rows[:0]
	return nil
}

// dataColumns are the stored fields an import compares and writes
// (incident.DataColumns).
var dataColumns = strings.Join(incident.DataColumns(), ", ")

// qualified is dataColumns, each prefixed with a table alias.
func qualified(alias string) string {
	parts := incident.DataColumns()
	for i, c := range parts {
		parts[i] = alias + "." + c
	}
	return strings.Join(parts, ", ")
}

// assignData is "c = alias.c, …" over dataColumns.
func assignData(alias string) string {
	parts := incident.DataColumns()
	for i, c := range parts {
		parts[i] = c + " = " + alias + "." + c
	}
	return strings.Join(parts, ", ")
}

// Import runs fn with a writer that stages rows by COPY, then, in the same
// transaction, assigns regions by a spatial join, and upserts by event_id:
// new event_ids are inserted with new ids in the order first seen; stored
// ones are updated only from a source timestamp at least as new and only
// when a field differs, so a second import of a file changes nothing. All
// or nothing: an error (or dryRun) rolls everything back.
func (p *PostGIS) Import(ctx context.Context, dryRun bool, fn func(w incident.ImportWriter) error) (incident.ImportCounts, error) {
	var counts incident.ImportCounts
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return counts, fmt.Errorf("import: begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	// The merge's sorts and the tile pre-aggregates' grouping of a large
	// import spill to disk in a server's usual few MB of work_mem.
	if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '128MB'"); err != nil {
		return counts, fmt.Errorf("import: %w", err)
	}
	if _, err := tx.Exec(ctx, stagingTable); err != nil {
		return counts, fmt.Errorf("import: staging: %w", err)
	}
	w := &importWriter{ctx: ctx, tx: tx}
	if err := fn(w); err != nil {
		return counts, err
	}
	if err := w.flush(); err != nil {
		return counts, err
	}
	// Region assignment by spatial join, for rows whose source named no admin1.
	if _, err := tx.Exec(ctx, `UPDATE staging s SET admin1 = r.name, region = r.region
		FROM regions r WHERE s.admin1 = '' AND ST_Covers(r.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))`); err != nil {
		return counts, fmt.Errorf("import: assign regions: %w", err)
	}
	// One row per event_id: the newest source version, the last given of
	// equals; first is where the event_id was first seen (the new id's order).
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE merged ON COMMIT DROP AS
		SELECT DISTINCT ON (event_id) s.*, min(ord) OVER (PARTITION BY event_id) AS first,
			count(*) OVER (PARTITION BY event_id) AS copies
		FROM staging s ORDER BY event_id, ts DESC, ord DESC`); err != nil {
		return counts, fmt.Errorf("import: merge: %w", err)
	}
	var extra int64
	if err := tx.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE i.id IS NULL),
		count(*) FILTER (WHERE i.id IS NOT NULL AND m.ts < i.source_timestamp),
		count(*) FILTER (WHERE i.id IS NOT NULL AND m.ts >= i.source_timestamp
			AND (`+qualified("i")+`, i.source_timestamp) IS NOT DISTINCT FROM (`+qualified("m")+`, m.ts)),
		count(*) FILTER (WHERE i.id IS NOT NULL AND m.ts >= i.source_timestamp
			AND (`+qualified("i")+`, i.source_timestamp) IS DISTINCT FROM (`+qualified("m")+`, m.ts)),
		coalesce(sum(m.copies - 1), 0)
		FROM merged m LEFT JOIN incidents i ON i.event_id = m.event_id`).Scan(
		&counts.Inserted, &counts.Older, &counts.Unchanged, &counts.Updated, &extra); err != nil {
		return counts, fmt.Errorf("import: count: %w", err)
	}
	// A repeated event_id within the file updates what its first occurrence wrote.
	counts.Updated += int(extra)
	if dryRun {
		return counts, incident.ErrDryRun
	}
	now := time.Now().UTC().Format(time.RFC3339)
	if _, err := tx.Exec(ctx, `UPDATE incidents i SET `+assignData("m")+`,
		cell = m.cell, source_timestamp = m.ts, updated_at = $1
		FROM merged m WHERE i.event_id = m.event_id AND m.ts >= i.source_timestamp
			AND (`+qualified("i")+`, i.source_timestamp) IS DISTINCT FROM (`+qualified("m")+`, m.ts)`, now); err != nil {
		return counts, fmt.Errorf("import: update: %w", err)
	}
	base, err := nextIncidentID(ctx, tx)
	if err != nil {
		return counts, err
	}
	// Into an empty table, a large import by a command with nobody else on
	// the database builds the secondary indexes once after its rows instead
	// of keeping them up row by row (see bulkAlone). Otherwise they are kept
	// up: DROP INDEX would lock every reader of every server out of the
	// table until the commit; this way they go on reading the old rows.
	var empty bool
	if err := tx.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM incidents)").Scan(&empty); err != nil {
		return counts, fmt.Errorf("import: %w", err)
	}
	var rebuild []string
	if empty && counts.Inserted >= bulkIndexRows {
		alone, err := p.bulkAlone(ctx, tx)
		if err != nil {
			return counts, fmt.Errorf("import: %w", err)
		}
		if alone {
			if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
				return counts, fmt.Errorf("import: %w", err)
			}
			if rebuild, err = dropSecondaryIndexes(ctx, tx, "incidents"); err != nil {
				return counts, fmt.Errorf("import: %w", err)
			}
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO incidents (id, event_id, `+dataColumns+`, cell, source_timestamp, updated_at)
		SELECT $1 - 1 + row_number() OVER (ORDER BY m.first), m.event_id, `+qualified("m")+`, m.cell, m.ts, $2
		FROM merged m WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.event_id = m.event_id)
		ORDER BY m.first`, base, now); err != nil {
		return counts, fmt.Errorf("import: insert: %w", err)
	}
	for _, def := range rebuild {
		if _, err := tx.Exec(ctx, def); err != nil {
			return counts, fmt.Errorf("import: rebuild index: %w", err)
		}
	}
	// A table that was empty has no statistics worth keeping: the planner
	// gets fresh ones with the rows (ANALYZE does not lock readers out).
	if empty && counts.Inserted >= bulkIndexRows {
		if _, err := tx.Exec(ctx, "ANALYZE incidents"); err != nil {
			return counts, fmt.Errorf("import: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return counts, fmt.Errorf("import: commit: %w", err)
	}
	return counts, nil
}

// Upsert writes incidents in one import without source timestamps and sets
// the ID of each to its row's.
func (p *PostGIS) Upsert(ctx context.Context, incs []incident.Incident) (incident.ImportCounts, error) {
	counts, err := p.Import(ctx, false, func(w incident.ImportWriter) error {
		for i := range incs {
			if err := w.Put(&incs[i], 0); err != nil {
				return fmt.Errorf("incident %d (%s): %w", i+1, incs[i].EventID, err)
			}
		}
		return nil
	})
	if err != nil {
		return counts, err
	}
	for i := range incs {
		if err := p.pool.QueryRow(ctx, "SELECT id FROM incidents WHERE event_id = $1", incs[i].EventID).Scan(&incs[i].ID); err != nil {
			return counts, fmt.Errorf("incident %d (%s): %w", i+1, incs[i].EventID, err)
		}
	}
	return counts, nil
}
