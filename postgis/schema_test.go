package postgis_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"incidentmap/incident"
	"incidentmap/internal/fieldtest"
	"incidentmap/internal/pgtest"
)

// TestSchemaMatchesFieldTable checks the migrated PostGIS schema against
// incident.Fields: columns (information_schema), checks, and the history
// function incident_feature that migration 1 writes out field by field.
func TestSchemaMatchesFieldTable(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	p := openPostGISAt(t, url)
	seedPostGIS(t, p)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	fieldtest.Check(t, fieldtest.Engine{
		Columns: func() (map[string]fieldtest.Column, error) {
			rows, err := conn.Query(ctx, `SELECT column_name, data_type, is_nullable = 'NO', coalesce(column_default, '')
				FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'incidents'`)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			return fieldtest.ScanColumns(rows)
		},
		Type: func(f incident.Field) string {
			switch {
			case f.Kind == incident.Point:
				return "double precision"
			case f.Name == "id":
				return "bigint"
			case f.Kind == incident.Integer:
				return "integer"
			}
			return "text"
		},
		Default: func(s string) string { return strings.TrimSuffix(s, "::text") },
		Own:     []string{"source_timestamp", "cell", "geom", "fts"},
		Try: func(id int64, column string, v any) error {
			tx, err := conn.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx)
			_, err = tx.Exec(ctx, "UPDATE incidents SET "+pgx.Identifier{column}.Sanitize()+" = $1 WHERE id = $2", v, id)
			return err
		},
		Exec: func(q string, args ...any) error {
			_, err := conn.Exec(ctx, q, args...)
			return err
		},
		LastHistory: func() (string, error) {
			var s string
			err := conn.QueryRow(ctx, "SELECT feature::text FROM history ORDER BY seq DESC LIMIT 1").Scan(&s)
			return s, err
		},
		FullText: func() ([]string, error) {
			var expr string
			if err := conn.QueryRow(ctx, `SELECT generation_expression FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = 'incidents' AND column_name = 'fts'`).Scan(&expr); err != nil {
				return nil, err
			}
			var out []string
			for _, m := range regexp.MustCompile(`im_words\(\(?(\w+)`).FindAllStringSubmatch(expr, -1) {
				out = append(out, m[1])
			}
			return out, nil
		},
		ID: 3,
		Incident: func(id int64) (incident.Incident, error) {
			inc, err := p.Incident(ctx, id)
			if errors.Is(err, incident.ErrNotFound) {
				t.Fatalf("no incident %d in the seed", id)
			}
			return inc, err
		},
	})
}
