package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"incidentmap/geo"
	"incidentmap/incident"
)

// DumpTable calls fn with each row of table, in key order, from one snapshot.
func (s *SQLite) DumpTable(ctx context.Context, table string, fn func(row []any) error) error {
	t, err := incident.CopyTableNamed(table)
	if err != nil {
		return err
	}
	// Names from the fixed table list, never from input.
	rows, err := s.ro.QueryContext(ctx, "SELECT "+strings.Join(t.Columns, ", ")+" FROM "+t.Name+" ORDER BY "+t.Columns[0])
	if err != nil {
		return fmt.Errorf("dump %s: %w", table, err)
	}
	defer rows.Close()
	row := make([]any, len(t.Columns))
	ptrs := make([]any, len(row))
	for i := range row {
		ptrs[i] = &row[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("dump %s: %w", table, err)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// loadBatch is how many rows one INSERT of a migration carries: a
// statement per row costs SQLite a statement's set-up for every row.
const loadBatch = 256

// LoadTables loads rows into an empty database in one write transaction,
// as a bulk import does: the incidents' secondary indexes and triggers are
// dropped, rows go in by multi-row INSERTs, and once the incidents are in,
// the full text, daily counts and tile pre-aggregates are built from them
// and the indexes and triggers restored. The change log and history the
// bulk build writes are then replaced by the copied ones.
func (s *SQLite) LoadTables(ctx context.Context, fill func(put func(table string, row []any) error) error) error {
	defer s.db.ExecContext(context.Background(), "PRAGMA cache_size = "+strconv.Itoa(defaultCacheSize))
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM incidents").Scan(&n); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("load: the database holds %d incidents already; migrate into an empty one", n)
		}
		// The import's page cache (see Import), given back afterwards.
		if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = -16384"); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		bulk, err := dropIndexesAndTriggers(ctx, tx)
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		l := &tableLoad{ctx: ctx, tx: tx, bulk: bulk}
		defer l.close()
		if err := fill(l.put); err != nil {
			return err
		}
		if err := l.flush(); err != nil {
			return err
		}
		return l.finishIncidents()
	})
}

// tableLoad buffers the rows of one table at a time for multi-row INSERTs.
type tableLoad struct {
	ctx   context.Context
	tx    *sql.Tx
	bulk  *bulkLoad // the incidents' dropped indexes and triggers; nil once restored
	table incident.CopyTable
	cols  int
	args  []any
	rows  int
	full  *sql.Stmt // the INSERT of loadBatch rows of table
}

// put buffers one row of table (copying its values: the source reuses row).
func (l *tableLoad) put(table string, row []any) error {
	if table != l.table.Name {
		if err := l.flush(); err != nil {
			return err
		}
		if table != "incidents" {
			if err := l.finishIncidents(); err != nil {
				return err
			}
		}
		t, err := incident.CopyTableNamed(table)
		if err != nil {
			return err
		}
		if l.full != nil {
			l.full.Close()
			l.full = nil
		}
		l.table, l.cols = t, len(t.Columns)
		if table == "incidents" {
			l.cols++ // and the cell key
		}
	}
	if len(row) != len(l.table.Columns) {
		return fmt.Errorf("load %s: a row of %d values for %d columns", table, len(row), len(l.table.Columns))
	}
	l.args = append(l.args, row...)
	if table == "incidents" {
		lon, lok := row[lonColumn].(float64)
		lat, aok := row[latColumn].(float64)
		if !lok || !aok {
			return fmt.Errorf("load incident %v: lon/lat %v, %v are not numbers", row[0], row[lonColumn], row[latColumn])
		}
		l.args = append(l.args, geo.Cell(lon, lat))
	}
	l.rows++
	if l.rows == loadBatch {
		return l.flush()
	}
	return nil
}

// insertSQL is the INSERT of n rows of the current table.
func (l *tableLoad) insertSQL(n int) string {
	cols := l.table.Columns
	if l.table.Name == "incidents" {
		cols = append(cols[:len(cols):len(cols)], "cell")
	}
	one := "(" + placeholders(len(cols)) + ")"
	return "INSERT INTO " + l.table.Name + " (" + strings.Join(cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(one+",", n), ",")
}

// flush inserts the buffered rows.
func (l *tableLoad) flush() error {
	if l.rows == 0 {
		return nil
	}
	var err error
	if l.rows == loadBatch {
		if l.full == nil {
			if l.full, err = l.tx.PrepareContext(l.ctx, l.insertSQL(loadBatch)); err != nil {
				return fmt.Errorf("load %s: %w", l.table.Name, err)
			}
		}
		_, err = l.full.ExecContext(l.ctx, l.args...)
	} else {
		_, err = l.tx.ExecContext(l.ctx, l.insertSQL(l.rows), l.args...)
	}
	if err != nil {
		return fmt.Errorf("load %s rows from %v: %w", l.table.Name, l.args[0], err)
	}
	l.args, l.rows = l.args[:0], 0
	return nil
}

// finishIncidents builds what the dropped triggers keep (full text, daily
// counts, tile pre-aggregates), restores the indexes and triggers, and
// empties the change log and history, which the copied ones replace: once,
// when the incidents are in.
func (l *tableLoad) finishIncidents() error {
	if l.bulk == nil {
		return nil
	}
	if err := l.bulk.finishLoad(l.ctx, nil, l.tx); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	l.bulk = nil
	if _, err := l.tx.ExecContext(l.ctx, "DELETE FROM history; DELETE FROM change_log"); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

func (l *tableLoad) close() {
	if l.full != nil {
		l.full.Close()
	}
}

var _ incident.Copier = (*SQLite)(nil)

// lonColumn and latColumn are where a row of the incidents CopyTable holds
// the point (its columns are the field table's).
var (
	lonColumn = incident.ColumnIndex("lon")
	latColumn = incident.ColumnIndex("lat")
)
