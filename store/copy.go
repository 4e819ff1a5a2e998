package store

import (
	"context"
	"database/sql"
	"fmt"
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

// LoadTables loads rows into an empty database in one write transaction.
// The incidents' triggers add to the change log and history as they load;
// both are emptied before their own rows are loaded, so they end as copied.
func (s *SQLite) LoadTables(ctx context.Context, fill func(put func(table string, row []any) error) error) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM incidents").Scan(&n); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("load: the database holds %d incidents already; migrate into an empty one", n)
		}
		stmts := map[string]*sql.Stmt{}
		defer func() {
			for _, st := range stmts {
				st.Close()
			}
		}()
		cleared := false
		return fill(func(table string, row []any) error {
			t, err := incident.CopyTableNamed(table)
			if err != nil {
				return err
			}
			if table != "incidents" && !cleared {
				if _, err := tx.ExecContext(ctx, "DELETE FROM history; DELETE FROM change_log"); err != nil {
					return fmt.Errorf("load: %w", err)
				}
				cleared = true
			}
			st := stmts[table]
			if st == nil {
				cols := t.Columns
				if table == "incidents" {
					cols = append(cols[:len(cols):len(cols)], "cell")
				}
				q := "INSERT INTO " + t.Name + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(len(cols)) + ")"
				if st, err = tx.PrepareContext(ctx, q); err != nil {
					return fmt.Errorf("load %s: %w", table, err)
				}
				stmts[table] = st
			}
			args := row
			if table == "incidents" {
				lon, lok := row[lonColumn].(float64)
				lat, aok := row[latColumn].(float64)
				if !lok || !aok {
					return fmt.Errorf("load incident %v: lon/lat %v, %v are not numbers", row[0], row[lonColumn], row[latColumn])
				}
				args = append(row[:len(row):len(row)], geo.Cell(lon, lat))
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("load %s row %v: %w", table, row[0], err)
			}
			return nil
		})
	})
}

var _ incident.Copier = (*SQLite)(nil)

// lonColumn and latColumn are where a row of the incidents CopyTable holds
// the point (its columns are the field table's).
var (
	lonColumn = incident.ColumnIndex("lon")
	latColumn = incident.ColumnIndex("lat")
)
