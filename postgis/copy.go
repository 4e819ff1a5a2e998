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

// LoadTables loads rows into an empty database in one transaction; the
// history and change log the incidents' triggers write meanwhile are
// replaced by the copied ones, and the sequences continue after them.
func (p *PostGIS) LoadTables(ctx context.Context, fill func(put func(table string, row []any) error) error) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM incidents").Scan(&n); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("load: the database holds %d incidents already; migrate into an empty one", n)
		}
		cleared := false
		err := fill(func(table string, row []any) error {
			t, err := incident.CopyTableNamed(table)
			if err != nil {
				return err
			}
			if table != "incidents" && !cleared {
				if _, err := tx.Exec(ctx, "DELETE FROM history; DELETE FROM change_log"); err != nil {
					return fmt.Errorf("load: %w", err)
				}
				cleared = true
			}
			cols := t.Columns
			args := row
			if table == "incidents" {
				lon, lok := row[18].(float64)
				lat, aok := row[19].(float64)
				if !lok || !aok {
					return fmt.Errorf("load incident %v: lon/lat %v, %v are not numbers", row[0], row[18], row[19])
				}
				cols = append(cols[:len(cols):len(cols)], "cell")
				args = append(row[:len(row):len(row)], geo.Cell(lon, lat))
			}
			ph := make([]string, len(cols))
			for i := range ph {
				ph[i] = fmt.Sprintf("$%d", i+1)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+t.Name+" ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(ph, ", ")+")", args...); err != nil {
				return fmt.Errorf("load %s row %v: %w", table, row[0], err)
			}
			return nil
		})
		if err != nil {
			return err
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
		return nil
	})
}

var _ incident.Copier = (*PostGIS)(nil)
