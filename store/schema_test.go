package store_test

import (
	"context"
	"database/sql"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/fieldtest"
	"incidentmap/internal/testsrv"
)

// TestSchemaMatchesFieldTable checks the migrated SQLite schema against
// incident.Fields: columns (PRAGMA table_info), checks, and the history
// triggers that migration 6 writes out field by field.
func TestSchemaMatchesFieldTable(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+st.Path()+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	fieldtest.Check(t, fieldtest.Engine{
		Columns: func() (map[string]fieldtest.Column, error) {
			// An INTEGER PRIMARY KEY is the rowid, never NULL, though
			// table_info says notnull 0 for it.
			rows, err := db.QueryContext(ctx, "SELECT name, type, \"notnull\" OR pk, coalesce(dflt_value, '') FROM pragma_table_info('incidents')")
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			return fieldtest.ScanColumns(rows)
		},
		Type: func(f incident.Field) string {
			switch {
			case f.Kind == incident.Point:
				return "REAL"
			case f.Kind == incident.Integer:
				return "INTEGER"
			}
			return "TEXT"
		},
		Default: func(s string) string { return s },
		Own:     []string{"source_timestamp", "cell"},
		Try: func(id int64, column string, v any) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			_, err = tx.ExecContext(ctx, "UPDATE incidents SET "+column+" = ? WHERE id = ?", v, id)
			return err
		},
		Exec: func(q string, args ...any) error {
			_, err := db.ExecContext(ctx, q, args...)
			return err
		},
		LastHistory: func() (string, error) {
			var s string
			err := db.QueryRowContext(ctx, "SELECT feature FROM history ORDER BY seq DESC LIMIT 1").Scan(&s)
			return s, err
		},
		FullText: func() ([]string, error) {
			rows, err := db.QueryContext(ctx, "SELECT name FROM pragma_table_info('incidents_fts')")
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					return nil, err
				}
				out = append(out, name)
			}
			return out, rows.Err()
		},
		ID:       3,
		Incident: func(id int64) (incident.Incident, error) { return st.Incident(ctx, id) },
	})
}
