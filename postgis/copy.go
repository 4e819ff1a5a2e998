package postgis

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"incidentmap/geo"
	"incidentmap/incident"
)

// DumpTable calls fn with each row of table, in key order, from one
// snapshot; json is read as its text.
func (p *PostGIS) DumpTable(ctx context.Context, table string, fn func(row []any) error) error {
	t, err := incident.CopyTableNamed(table)
	if err != nil {
		return err
	}
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = c
		if c == "feature" {
			cols[i] = "feature::text"
		}
	}
	tx, err := p.readTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// Names from the fixed table list, never from input.
	rows, err := tx.Query(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+t.Name+" ORDER BY "+t.Columns[0])
	if err != nil {
		return fmt.Errorf("dump %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		row, err := rows.Values()
		if err != nil {
			return fmt.Errorf("dump %s: %w", table, err)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LoadTables loads rows into an empty database in one transaction, each
// table by COPY (binary, streamed while fill reads the source). The
// incidents' own triggers are off meanwhile, so rows land as the source
// holds them (admin1 as given, no history or change log written for the
// load) and the copied history and change log replace whatever the empty
// database held. All in one transaction: on any error nothing is written.
// Readers of the database go on reading the empty table until the commit:
// nothing here locks them out (no TRUNCATE; the indexes are kept up as rows
// arrive, unless nobody else is connected: see bulkAlone).
func (p *PostGIS) LoadTables(ctx context.Context, fill func(put func(table string, row []any) error) error) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM incidents").Scan(&n); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("load: the database holds %d incidents already; migrate into an empty one", n)
		}
		// The tile pre-aggregates' grouping at the end gets room to hash in
		// memory.
		if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '128MB'"); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		// Turning triggers off locks out other writers, not readers (SHARE
		// ROW EXCLUSIVE).
		if _, err := tx.Exec(ctx, "ALTER TABLE incidents DISABLE TRIGGER USER"); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		// With nobody else on the database, the indexes are built once at
		// the end (see bulkAlone).
		var indexes []string
		alone, err := p.bulkAlone(ctx, tx)
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		if alone {
			if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
				return fmt.Errorf("load: %w", err)
			}
			if indexes, err = dropSecondaryIndexes(ctx, tx, "incidents"); err != nil {
				return fmt.Errorf("load: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM history; DELETE FROM change_log"); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		var c *tableCopy
		err = fill(func(table string, row []any) error {
			if c != nil && c.table != table {
				if err := c.finish(); err != nil {
					return err
				}
				c = nil
			}
			if c == nil {
				t, err := incident.CopyTableNamed(table)
				if err != nil {
					return err
				}
				c = startCopy(ctx, tx, t)
			}
			return c.put(row)
		})
		if c != nil {
			if ferr := c.finish(); err == nil {
				err = ferr
			}
		}
		if err != nil {
			return err
		}
		for _, def := range indexes {
			if _, err := tx.Exec(ctx, def); err != nil {
				return fmt.Errorf("load: rebuild index: %w", err)
			}
		}
		// The tile pre-aggregates' triggers were off too.
		if _, err := tx.Exec(ctx, "DELETE FROM tile_cells; INSERT INTO tile_cells "+tileCellsRollup("incidents")); err != nil {
			return fmt.Errorf("load: tile pre-aggregates: %w", err)
		}
		if _, err := tx.Exec(ctx, "ALTER TABLE incidents ENABLE TRIGGER USER"); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		for _, s := range []string{"history", "change_log", "tokens"} {
			col := "seq"
			if s == "tokens" {
				col = "id"
			}
			if _, err := tx.Exec(ctx, "SELECT setval(pg_get_serial_sequence('"+s+"', '"+col+"'), coalesce((SELECT max("+col+") FROM "+s+"), 0) + 1, false)"); err != nil {
				return fmt.Errorf("load: sequence of %s: %w", s, err)
			}
		}
		// Fresh statistics for the planner, and every server listening learns
		// that the data changed (the statement trigger was off).
		if _, err := tx.Exec(ctx, "ANALYZE incidents; ANALYZE history; ANALYZE change_log; SELECT pg_notify('incidentmap_changes', '')"); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		return nil
	})
}

// dropSecondaryIndexes drops the indexes of table that back no constraint
// and returns the statements that create them again.
func dropSecondaryIndexes(ctx context.Context, tx pgx.Tx, table string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY 1`, table)
	if err != nil {
		return nil, fmt.Errorf("indexes of %s: %w", table, err)
	}
	type index struct{ name, def string }
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var x index
		err := r.Scan(&x.name, &x.def)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("indexes of %s: %w", table, err)
	}
	var defs []string
	for _, x := range list {
		// The name comes from the catalogue (regclass text is quoted as needed).
		if _, err := tx.Exec(ctx, "DROP INDEX "+x.name); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", x.name, err)
		}
		defs = append(defs, x.def)
	}
	return defs, nil
}

// bulkAlone reports whether a load into an empty incidents table may drop
// its secondary indexes and build them once at the end (several times
// faster than keeping eight B-trees, a GIN and a GiST index up row by row):
// only in a command's process (ForCommand) and only when no other session
// is connected to the database, because DROP INDEX locks the table against
// readers (ACCESS EXCLUSIVE) until the commit. With a server connected, the
// indexes are kept up and its readers go on reading the old rows. A reader
// that connects after this check waits for the load.
func (p *PostGIS) bulkAlone(ctx context.Context, tx pgx.Tx) (bool, error) {
	if !p.command {
		return false, nil
	}
	// The process's own idle connections are not readers (nothing else in a
	// command uses the pool).
	pids := []uint32{tx.Conn().PgConn().PID()}
	for _, c := range p.pool.AcquireAllIdle(ctx) {
		pids = append(pids, c.Conn().PgConn().PID())
		c.Release()
	}
	var alone bool
	err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
		WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> ALL($1::int[]))`, pids).Scan(&alone)
	if err != nil {
		return false, fmt.Errorf("other sessions: %w", err)
	}
	return alone, nil
}

// tableCopy is one table's COPY running on its own goroutine, fed rows as
// the source yields them, so reading the source and writing PostgreSQL
// overlap.
type tableCopy struct {
	table string
	rows  chan []any
	done  chan struct{}
	err   error // the COPY's outcome, set before done closes
	cell  bool  // incidents: the Morton cell key is added to each row
}

// startCopy begins COPY into t's columns (and cell, for incidents).
func startCopy(ctx context.Context, tx pgx.Tx, t incident.CopyTable) *tableCopy {
	c := &tableCopy{table: t.Name, rows: make(chan []any, 1024), done: make(chan struct{}), cell: t.Name == "incidents"}
	cols := t.Columns
	if c.cell {
		cols = append(cols[:len(cols):len(cols)], "cell")
	}
	go func() {
		defer close(c.done)
		src := &chanSource{rows: c.rows}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{t.Name}, cols, src)
		if err == nil {
			err = src.err
		}
		if err != nil {
			c.err = fmt.Errorf("load %s: %w", t.Name, err)
		}
		// Drain what put may still send so it never blocks.
		for range c.rows {
		}
	}()
	return c
}

// put hands one row to the COPY; the row is the source's to reuse, so its
// values are copied.
func (c *tableCopy) put(row []any) error {
	r := make([]any, len(row), len(row)+1)
	copy(r, row)
	if c.cell {
		lon, lok := row[lonColumn].(float64)
		lat, aok := row[latColumn].(float64)
		if !lok || !aok {
			return fmt.Errorf("load incident %v: lon/lat %v, %v are not numbers", row[0], row[lonColumn], row[latColumn])
		}
		r = append(r, geo.Cell(lon, lat))
	}
	select {
	case c.rows <- r:
		return nil
	case <-c.done:
		return c.err
	}
}

// finish ends the table's rows and waits for its COPY.
func (c *tableCopy) finish() error {
	close(c.rows)
	<-c.done
	return c.err
}

// chanSource is a pgx.CopyFromSource over a channel of rows.
type chanSource struct {
	rows chan []any
	cur  []any
	err  error
}

func (s *chanSource) Next() bool {
	r, ok := <-s.rows
	s.cur = r
	return ok
}

func (s *chanSource) Values() ([]any, error) { return s.cur, nil }
func (s *chanSource) Err() error             { return s.err }

var _ incident.Copier = (*PostGIS)(nil)

// lonColumn and latColumn are where a row of the incidents CopyTable holds
// the point (its columns are the field table's).
var (
	lonColumn = incident.ColumnIndex("lon")
	latColumn = incident.ColumnIndex("lat")
)
