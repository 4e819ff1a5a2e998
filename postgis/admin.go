package postgis

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Check verifies the database at url without changing its data, as the
// SQLite engine's check does with integrity_check and foreign_key_check:
// the schema is this build's, every constraint is validated (a NOT VALID
// foreign key or check was never proven of the existing rows), and, through
// PostgreSQL's amcheck, every table's heap and every B-tree index of the
// schema is structurally sound. It returns the problems found (none: the
// database is sound) and what was checked. The engine's own invariants
// are checked too (see checkInvariants). amcheck is a contrib extension;
// where it cannot be created (not installed, no privilege) that part is
// named as not checked rather than passed.
func Check(ctx context.Context, url string) (problems []string, checked string, err error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, "", fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())

	var version int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return nil, "", fmt.Errorf("schema version (is this an incidentmap database?): %w", err)
	}
	if version != SchemaVersion() {
		problems = append(problems, fmt.Sprintf("schema: version %d, this build's is %d (serve or migrate it once to bring it up to date)", version, SchemaVersion()))
	}

	rows, err := conn.Query(ctx, `SELECT conrelid::regclass::text, conname FROM pg_constraint
		WHERE NOT convalidated AND connamespace = current_schema()::regnamespace ORDER BY 1, 2`)
	if err != nil {
		return nil, "", fmt.Errorf("constraints: %w", err)
	}
	for rows.Next() {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("constraints: %w", err)
		}
		problems = append(problems, fmt.Sprintf("constraint: %s.%s is NOT VALID (not proven of the existing rows)", table, name))
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("constraints: %w", err)
	}

	checked = "schema version, constraints validated"
	if version == SchemaVersion() {
		inv, err := checkInvariants(ctx, conn)
		if err != nil {
			return nil, "", err
		}
		problems = append(problems, inv...)
		checked += fmt.Sprintf(", tile pre-aggregates recounted, cell keys, stored words, change log, %d rows looked up through the full-text and spatial indexes", ftsSampleRows)
	} else {
		checked += "; NOT checked: the engine's invariants (another schema version)"
	}
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS amcheck"); err != nil {
		return problems, checked + "; NOT checked: table and index structure (amcheck: " + err.Error() + ")", nil
	}
	type rel struct{ name, kind string }
	var rels []rel
	rows, err = conn.Query(ctx, `SELECT c.oid::regclass::text, CASE WHEN c.relkind = 'i' THEN 'index' ELSE 'table' END
		FROM pg_class c LEFT JOIN pg_am a ON a.oid = c.relam
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relpersistence = 'p'
		AND (c.relkind IN ('r', 'm', 't') OR (c.relkind = 'i' AND a.amname = 'btree'))
		ORDER BY 2 DESC, 1`)
	if err != nil {
		return nil, "", fmt.Errorf("relations: %w", err)
	}
	for rows.Next() {
		var r rel
		if err := rows.Scan(&r.name, &r.kind); err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("relations: %w", err)
		}
		rels = append(rels, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("relations: %w", err)
	}
	tables, indexes := 0, 0
	for _, r := range rels {
		if r.kind == "table" {
			tables++
			// Every corrupt tuple is a row of verify_heapam's answer.
			rs, err := conn.Query(ctx, `SELECT coalesce(blkno, -1), coalesce(offnum, -1), msg FROM verify_heapam($1::regclass)`, r.name)
			if err != nil {
				return nil, "", fmt.Errorf("verify_heapam %s: %w", r.name, err)
			}
			for rs.Next() {
				var blk int64
				var off int32
				var msg string
				if err := rs.Scan(&blk, &off, &msg); err != nil {
					rs.Close()
					return nil, "", fmt.Errorf("verify_heapam %s: %w", r.name, err)
				}
				problems = append(problems, fmt.Sprintf("table %s: block %d item %d: %s", r.name, blk, off, msg))
			}
			if err := rs.Err(); err != nil {
				return nil, "", fmt.Errorf("verify_heapam %s: %w", r.name, err)
			}
			continue
		}
		indexes++
		// bt_index_check raises an error for a corrupt index (heapallindexed:
		// every table row is in it); that error is the problem found.
		if _, err := conn.Exec(ctx, `SELECT bt_index_check($1::regclass, true)`, r.name); err != nil {
			var pe interface{ SQLState() string }
			if errors.As(err, &pe) && pe.SQLState() == "XX002" {
				problems = append(problems, fmt.Sprintf("index %s: %v", r.name, err))
				continue
			}
			return nil, "", fmt.Errorf("bt_index_check %s: %w", r.name, err)
		}
	}
	checked += fmt.Sprintf(", %d tables (verify_heapam), %d B-tree indexes (bt_index_check with every row)", tables, indexes)
	return problems, checked, nil
}
