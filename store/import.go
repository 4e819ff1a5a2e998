package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/internal/sqlitebatch"

	"github.com/mattn/go-sqlite3"
)

// defaultCacheSize is SQLite's default page cache of a connection, in the
// PRAGMA cache_size form (negative: KiB): 2 MB.
const defaultCacheSize = -2000

// importBatch is how many rows one upsert statement carries. Per statement,
// SQLite opens a savepoint in which FTS5 flushes its pending terms and the
// triggers run their programs: a statement per row costs ~10× a row of a
// statement of hundreds. 256 rows × 23 values stay well under SQLite's
// limit of 32,766 bound variables.
const importBatch = 256

// importColumns are the columns an import writes, in bind order: the field
// table's (incident.Columns), the source's timestamp and the cell key.
var importColumns = append(incident.Columns(""), "source_timestamp", "cell")

// importCompared are the columns whose change makes an import update a
// stored row: every field's but the key (event_id), the id and updated_at,
// and the source's timestamp.
var importCompared = append(incident.DataColumns(), "source_timestamp")

// importRowValues is the placeholder group of one row of importColumns.
var importRowValues = "(?" + strings.Repeat(",?", len(importColumns)-1) + ")"

// importConflict updates an existing event_id only from a source version at
// least as new as the stored one, and only when some field differs, so that
// importing the same file twice writes nothing and keeps updated_at.
// RETURNING names the rows inserted or updated; the rest were left alone.
var importConflict = func() string {
	var set, stored, excluded []string
	for _, c := range importColumns {
		if c != "id" && c != "event_id" {
			set = append(set, c+" = excluded."+c)
		}
	}
	for _, c := range importCompared {
		stored = append(stored, "incidents."+c)
		excluded = append(excluded, "excluded."+c)
	}
	return "\nON CONFLICT (event_id) DO UPDATE SET " + strings.Join(set, ", ") +
		"\nWHERE excluded.source_timestamp >= incidents.source_timestamp" +
		"\n\tAND (" + strings.Join(stored, ", ") + ")\n\tIS NOT (" + strings.Join(excluded, ", ") + ")" +
		"\nRETURNING id, event_id"
}()

// importUpsertSQL is the upsert of n rows.
func importUpsertSQL(n int) string {
	return "INSERT INTO incidents (" + strings.Join(importColumns, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(importRowValues+",", n), ",") + importConflict
}

// pendingRow is a checked row waiting for its batch to be written.
type pendingRow struct {
	inc     incident.Incident
	ts      int64
	id      int64 // the id to insert with; for an existing row, its own
	existed bool  // known to be stored already (not in a bulk load)
}

// ImportWriter writes incidents inside the single transaction of an import;
// see SQLite.Import. Rows are buffered and written importBatch at a time.
type ImportWriter struct {
	ctx     context.Context
	s       *SQLite
	conn    *sql.Conn
	tx      *sql.Tx
	bulk    *bulkLoad // set when the import began on an empty table
	rows    []pendingRow
	inBatch map[string]bool // event_ids of rows: a repeat waits for the next batch
	full    *sql.Stmt       // the upsert of a whole batch
	// A bulk load's plain insert of a whole batch, and its values.
	fastFull *sqlitebatch.Stmt
	fastArgs sqlitebatch.Args
	args     []any
	nextID   int64
	now      string
	// Counts so far (rows still buffered are not counted yet).
	Counts incident.ImportCounts
}

// Check normalizes inc, assigns its region from the point when the source gave
// no admin1, and validates it: a *incident.FieldError names the bad field. It
// writes nothing and touches no shared state, so a reader goroutine can check
// rows while the writer writes earlier ones.
func (w *ImportWriter) Check(inc *incident.Incident) error {
	return w.s.prepare(inc)
}

// Put checks inc (see Check) and upserts it by event_id with the source's
// timestamp ts (Unix seconds; 0 when the source has none). A row stored with a
// newer timestamp is kept and counted as Older. A *incident.FieldError means the
// row is invalid and nothing was written for it.
func (w *ImportWriter) Put(inc *incident.Incident, ts int64) error {
	if err := w.Check(inc); err != nil {
		return err
	}
	return w.PutChecked(inc, ts)
}

// PutChecked upserts a row that Check has accepted, as Put does.
func (w *ImportWriter) PutChecked(inc *incident.Incident, ts int64) error {
	if w.inBatch[inc.EventID] {
		// A repeated event_id updates the row its first occurrence wrote, so
		// the first must be written before the second is compared with it.
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.inBatch[inc.EventID] = true
	w.rows = append(w.rows, pendingRow{inc: *inc, ts: ts})
	if len(w.rows) == importBatch {
		return w.flush()
	}
	return nil
}

// flush writes the buffered rows with one upsert statement.
func (w *ImportWriter) flush() error {
	if len(w.rows) == 0 {
		return nil
	}
	rows := w.rows
	w.rows = w.rows[:0]
	clear(w.inBatch)
	if w.bulk == nil {
		var err error
		if rows, err = w.matchStored(rows); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
	} else {
		// The table was empty when the import began: every row is new unless
		// an earlier batch of this file wrote its event_id (found below).
		for i := range rows {
			rows[i].id = w.nextID + int64(i)
		}
		w.nextID += int64(len(rows))
		if w.bulk.fast {
			done, err := w.insertNew(rows)
			if err != nil || done {
				return err
			}
		}
	}
	w.args = w.args[:0]
	for i := range rows {
		r := &rows[i]
		row := r.inc
		row.ID, row.UpdatedAt = r.id, w.now
		at := len(w.args)
		w.args = append(incident.AppendValues(w.args, &row), r.ts, geo.Cell(row.Lon, row.Lat))
		if r.id == 0 {
			w.args[at] = nil // a new id from SQLite
		}
	}
	var res *sql.Rows
	var err error
	if len(rows) == importBatch {
		if w.full == nil {
			if w.full, err = w.tx.PrepareContext(w.ctx, importUpsertSQL(importBatch)); err != nil {
				return fmt.Errorf("import: prepare: %w", err)
			}
		}
		res, err = w.full.QueryContext(w.ctx, w.args...)
	} else {
		res, err = w.tx.QueryContext(w.ctx, importUpsertSQL(len(rows)), w.args...)
	}
	if err != nil {
		return fmt.Errorf("import rows %s…: %w", rows[0].inc.EventID, err)
	}
	written := make(map[string]int64, len(rows))
	for res.Next() {
		var id int64
		var eventID string
		if err := res.Scan(&id, &eventID); err != nil {
			res.Close()
			return fmt.Errorf("import: %w", err)
		}
		written[eventID] = id
	}
	if err := res.Close(); err != nil {
		return fmt.Errorf("import rows %s…: %w", rows[0].inc.EventID, err)
	}
	for i := range rows {
		r := &rows[i]
		id, ok := written[r.inc.EventID]
		if w.bulk != nil && w.bulk.agg != nil && w.bulk.agg.ok && !(ok && id == r.id) {
			w.bulk.agg.ok = false // a row of the file changed an earlier one
		}
		switch {
		case ok && id == r.id && !r.existed:
			w.Counts.Inserted++
			if a := w.bulk.aggregating(); a != nil {
				row := &rows[i].inc
				row.ID = id
				if !a.add(row, geo.Cell(row.Lon, row.Lat)) {
					a.ok = false
				}
			}
		case ok:
			w.Counts.Updated++
		case r.existed:
			w.Counts.Unchanged++
		default:
			// Bulk load: an earlier batch stored this event_id, and the
			// conflict clause kept it. Why decides the count.
			var stored int64
			if err := w.tx.QueryRowContext(w.ctx, "SELECT source_timestamp FROM incidents WHERE event_id = ?",
				r.inc.EventID).Scan(&stored); err != nil {
				return fmt.Errorf("import: event_id %s: %w", r.inc.EventID, err)
			}
			if r.ts < stored {
				w.Counts.Older++
			} else {
				w.Counts.Unchanged++
			}
		}
	}
	if a := w.bulk.aggregating(); a != nil && a.full() {
		return a.writeTiles(w.ctx, w.conn)
	}
	return nil
}

// insertNew writes the rows of a bulk load with a plain INSERT of them all,
// through sqlitebatch: the upsert through database/sql (a conflict clause
// and RETURNING, every value converted by the driver and its text copied)
// cost four times the insert itself. done is false when an event_id of
// the rows is stored already (a repeat in the file; SQLite undid the
// statement): the upsert then writes them as it always has.
func (w *ImportWriter) insertNew(rows []pendingRow) (done bool, err error) {
	w.fastArgs.Reset()
	for i := range rows {
		r := &rows[i]
		row := &r.inc
		row.ID, row.UpdatedAt = r.id, w.now
		appendIncidentArgs(&w.fastArgs, row)
		w.fastArgs.Int(r.ts)
		w.fastArgs.Int(geo.Cell(row.Lon, row.Lat))
	}
	err = withHandle(w.ctx, w.conn, func(h sqlitebatch.Handle) error {
		st := w.fastFull
		if len(rows) != importBatch || st == nil {
			var err error
			if st, err = sqlitebatch.Prepare(h, importInsertSQL(len(rows))); err != nil {
				return err
			}
			if len(rows) == importBatch {
				w.fastFull = st
			} else {
				defer st.Close()
			}
		}
		_, err := st.Exec(&w.fastArgs)
		return err
	})
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("import rows %s…: %w", rows[0].inc.EventID, err)
	}
	w.Counts.Inserted += len(rows)
	if a := w.bulk.aggregating(); a != nil {
		for i := range rows {
			row := &rows[i].inc
			if !a.add(row, geo.Cell(row.Lon, row.Lat)) {
				a.ok = false
			}
		}
		if a.full() {
			return true, a.writeTiles(w.ctx, w.conn)
		}
	}
	return true, nil
}

// importInsertSQL is the plain insert of n rows of a bulk load.
func importInsertSQL(n int) string {
	return "INSERT INTO incidents (" + strings.Join(importColumns, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(importRowValues+",", n), ",")
}

// appendIncidentArgs adds inc's values in the order of incident.AppendValues
// (the field table's columns).
func appendIncidentArgs(a *sqlitebatch.Args, inc *incident.Incident) {
	a.Int(inc.ID)
	for i := range incident.Fields {
		f := &incident.Fields[i]
		switch {
		case f.Name == "id":
		case f.Kind == incident.Point:
			a.Float(inc.Lon)
			a.Float(inc.Lat)
		case f.Kind == incident.Integer:
			a.Int(int64(*f.Int(inc)))
		default:
			a.Text(*f.Text(inc))
		}
	}
}

// matchStored looks up the stored rows of a batch's event_ids in one query:
// an existing row keeps its id, a new one gets the next, and a row older than
// the stored version is counted and dropped.
func (w *ImportWriter) matchStored(rows []pendingRow) ([]pendingRow, error) {
	w.args = w.args[:0]
	for i := range rows {
		w.args = append(w.args, rows[i].inc.EventID)
	}
	q := "SELECT event_id, id, source_timestamp FROM incidents WHERE event_id IN (" +
		strings.TrimSuffix(strings.Repeat("?,", len(rows)), ",") + ")"
	res, err := w.tx.QueryContext(w.ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("import: stored rows: %w", err)
	}
	type stored struct{ id, ts int64 }
	found := make(map[string]stored, len(rows))
	for res.Next() {
		var e string
		var s stored
		if err := res.Scan(&e, &s.id, &s.ts); err != nil {
			res.Close()
			return nil, fmt.Errorf("import: stored rows: %w", err)
		}
		found[e] = s
	}
	if err := res.Close(); err != nil {
		return nil, fmt.Errorf("import: stored rows: %w", err)
	}
	kept := rows[:0]
	for _, r := range rows {
		s, ok := found[r.inc.EventID]
		switch {
		case ok && r.ts < s.ts:
			w.Counts.Older++
			continue
		case ok:
			r.id, r.existed = s.id, true
		default:
			// A new row gets an id no incident ever had (see nextIncidentID).
			r.id = w.nextID
			w.nextID++
		}
		kept = append(kept, r)
	}
	return kept, nil
}

// ErrDryRun is returned by Import after a dry run rolled its transaction back.
// It is incident.ErrDryRun, the seam's error.
var ErrDryRun = incident.ErrDryRun

// Import runs fn with a writer on one write transaction. When fn returns nil
// the transaction commits, unless dryRun, when it rolls back and Import
// returns the counts it would have had with ErrDryRun. When fn returns an
// error everything is rolled back: an import is all or nothing. Rows stream
// through fn, so memory does not grow with the file.
//
// An import into an empty table is a bulk load: the indexes and triggers of
// the incidents table are dropped inside the transaction and built once at
// the end from the loaded rows (the full-text index, the change log), which
// is many times faster than maintaining them row by row. Other connections
// never see the table without them: a rollback restores them with the rest.
func (s *SQLite) Import(ctx context.Context, dryRun bool, fn func(w incident.ImportWriter) error) (incident.ImportCounts, error) {
	var counts incident.ImportCounts
	// The import's larger page cache (below) belongs to the writer's
	// connection and would outlive the import: a server that took one write
	// kept up to that much more memory for good. It goes back afterwards.
	defer s.db.ExecContext(context.Background(), "PRAGMA cache_size = "+strconv.Itoa(defaultCacheSize))
	err := s.importTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		w := &ImportWriter{ctx: ctx, s: s, conn: conn, tx: tx, inBatch: map[string]bool{},
			now: time.Now().UTC().Format(time.RFC3339)}
		defer func() {
			if w.full != nil {
				w.full.Close()
			}
			if w.fastFull != nil {
				withHandle(ctx, conn, func(sqlitebatch.Handle) error { w.fastFull.Close(); return nil })
			}
		}()
		// A transaction of a million rows outgrows SQLite's default 2 MB page
		// cache, which then spills and rewrites index pages in the WAL over and
		// over. 16 MB keeps the spills rare: 64 MB took the same CPU time for
		// a million rows (54 s against 53 s user on the loaded VM) and the
		// peak RSS from 71 to 222 MB (it also bounds the sorter of each index
		// built at the end of a bulk load).
		if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = -16384"); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		var err error
		if w.nextID, err = nextIncidentID(ctx, tx); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		var empty bool
		if err := tx.QueryRowContext(ctx, "SELECT NOT EXISTS (SELECT 1 FROM incidents)").Scan(&empty); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if empty {
			if w.bulk, err = dropIndexesAndTriggers(ctx, tx); err != nil {
				return fmt.Errorf("bulk load: %w", err)
			}
			if batchable(ctx, conn) {
				// Empty with an empty table, unless something wrote them
				// behind the triggers' back: they are written afresh.
				if _, err := tx.ExecContext(ctx, "DELETE FROM daily_stats; DELETE FROM tile_cells; DELETE FROM tile_periods"); err != nil {
					return fmt.Errorf("bulk load: %w", err)
				}
				w.bulk.fast = true
				w.bulk.agg = newBulkAgg(w.nextID)
				defer w.bulk.agg.close()
			}
		}
		rowsStep := startStep()
		err = fn(w)
		if err == nil {
			err = w.flush()
		}
		counts = w.Counts
		if err != nil {
			return err
		}
		if dryRun {
			return ErrDryRun
		}
		rowsStep.done("rows written")
		if w.bulk != nil {
			return w.bulk.finishLoad(ctx, conn, tx)
		}
		return nil
	})
	return counts, err
}

// importTx is WriteTx on a connection of its own, so that the import can
// also reach SQLite's handle inside the transaction (sqlitebatch).
func (s *SQLite) importTx(ctx context.Context, fn func(*sql.Conn, *sql.Tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	if err := fn(conn, tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// batchable says whether conn's SQLite handle is reachable for sqlitebatch.
func batchable(ctx context.Context, conn *sql.Conn) bool {
	return withHandle(ctx, conn, func(sqlitebatch.Handle) error { return nil }) == nil
}

// bulkLoad holds the indexes and triggers of the incidents table that a bulk
// load or a migration dropped, to build them again at its end.
type bulkLoad struct {
	indexes, triggers []string // their CREATE statements, as the schema has them
	fast              bool     // rows are inserted through sqlitebatch (insertNew)
	agg               *bulkAgg // nil: daily_stats and tile_cells are filled by SQL
}

// dropIndexesAndTriggers drops the secondary indexes and every trigger of the
// incidents table (the unique event_id index stays: upserts need it).
func dropIndexesAndTriggers(ctx context.Context, tx *sql.Tx) (*bulkLoad, error) {
	rows, err := tx.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_schema
		WHERE tbl_name = 'incidents' AND type IN ('index', 'trigger') AND sql IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	b := &bulkLoad{}
	var drops []string
	for rows.Next() {
		var typ, name, create string
		if err := rows.Scan(&typ, &name, &create); err != nil {
			rows.Close()
			return nil, err
		}
		// Identifiers cannot be bound; these come from our own schema.
		drops = append(drops, "DROP "+strings.ToUpper(typ)+` "`+strings.ReplaceAll(name, `"`, `""`)+`"`)
		if typ == "index" {
			b.indexes = append(b.indexes, create)
		} else {
			b.triggers = append(b.triggers, create)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for _, d := range drops {
		if _, err := tx.ExecContext(ctx, d); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
	}
	return b, nil
}

// finishLoad builds what the triggers would have maintained during a bulk
// load — the full-text index and a "created" change per incident — then
// restores the indexes and triggers.
func (b *bulkLoad) finishLoad(ctx context.Context, conn *sql.Conn, tx *sql.Tx) error {
	steps := []string{
		// The rebuild tokenizes every row: with an 8 MB buffer of pending terms
		// (1 MB by default) and no merging until it is done, FTS5 writes a few
		// large segments instead of merging many small ones as it goes (a
		// third faster; 32 MB took no less CPU time and 24 MB more memory).
		// Both go back to FTS5's defaults for later writes.
		"INSERT INTO incidents_fts (incidents_fts, rank) VALUES ('hashsize', 8388608)",
		"INSERT INTO incidents_fts (incidents_fts, rank) VALUES ('automerge', 0)",
		"INSERT INTO incidents_fts (incidents_fts) VALUES ('rebuild')",
		"INSERT INTO incidents_fts (incidents_fts, rank) VALUES ('automerge', 4)",
		"INSERT INTO incidents_fts (incidents_fts, rank) VALUES ('hashsize', 1048576)",
		"INSERT INTO change_log (incident_id, event_id, op) SELECT id, event_id, 'created' FROM incidents ORDER BY id",
	}
	if a := b.aggregating(); a != nil {
		st := startStep()
		if err := a.writeDaily(ctx, conn); err != nil {
			return fmt.Errorf("bulk load: %w", err)
		}
		st.done("daily_stats from Go")
		st = startStep()
		if err := a.writeTiles(ctx, conn); err != nil {
			return fmt.Errorf("bulk load: %w", err)
		}
		a.close()
		st.done("tile_cells and tile_periods from Go")
	} else {
		steps = append(steps,
			// The daily counts' triggers were off too (migration 14).
			"DELETE FROM daily_stats",
			"INSERT INTO daily_stats "+dailyStatsFill,
			// And the tile pre-aggregates' (migration 15).
			"DELETE FROM tile_cells",
			tileCellsFill(),
			tileCellsAllFill,
			// And by period (migration 19).
			"DELETE FROM tile_periods",
			tilePeriodsFill())
	}
	for _, q := range steps {
		st := startStep()
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("bulk load: %.60s: %w", q, err)
		}
		st.done(q)
	}
	if err := b.restore(ctx, tx); err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	// A table that was empty had no statistics worth keeping: without fresh
	// ones the planner may pick, say, the date index over the covering
	// region index (0.6 s against 0.03 s at a million rows). The whole table
	// is read, not a sample (analysis_limit): a sample of the first entries
	// of an index sees one event type or governorate and records ~1,000 rows
	// per value where there are 166,000, and the planner then sorts every
	// Battles row for a page of 100 (0.25 s against 4 ms at a million rows,
	// issue 16). A full ANALYZE costs ~0.5 s a million rows, a few percent
	// of the load.
	st := startStep()
	if err := analyze(ctx, tx); err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	st.done("ANALYZE")
	return nil
}

// aggregating is the load's aggregation in Go while it still holds; nil
// when there is none (no bulk load, or the SQL fill will run).
func (b *bulkLoad) aggregating() *bulkAgg {
	if b == nil || b.agg == nil || !b.agg.ok {
		return nil
	}
	return b.agg
}

// restore creates the dropped indexes, then the triggers.
func (b *bulkLoad) restore(ctx context.Context, tx *sql.Tx) error {
	for _, q := range append(append([]string(nil), b.indexes...), b.triggers...) {
		st := startStep()
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%.60s: %w", q, err)
		}
		st.done(q)
	}
	return nil
}

// analyze gathers the planner's statistics of the incidents table from every
// row. analysis_limit belongs to the connection and outlives the statement,
// so it is set to 0 (no limit) explicitly rather than trusted.
func analyze(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, "PRAGMA analysis_limit = 0; ANALYZE incidents"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
