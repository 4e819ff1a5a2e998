package postgis

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"incidentmap/geo"
)

// ftsSampleRows is how many incidents the full-text and spatial index check
// looks up through those indexes: spread over the ids, and the newest.
const ftsSampleRows = 200

// checkInvariants verifies what the schema cannot declare but the engine
// relies on, each a recount or a look-up through the index it concerns:
//   - tile_cells equals a recount of the incidents (the grids of cold tiles);
//   - each incident's cell is geo.Cell of its point (spatial order, tiles);
//   - each stored tsvector equals its generation expression as the database
//     computes it now (a changed word function leaves old rows stale);
//   - a sample of rows is found through the full-text (GIN) and spatial
//     (GiST) indexes by every word of its own and by its point, which
//     amcheck cannot check in PostgreSQL 15;
//   - the change log has an entry for every incident, its last one not a
//     delete, and every id whose last entry is not a delete exists.
//
// It reads in one repeatable-read snapshot, so writers running meanwhile
// cannot make a recount disagree.
func checkInvariants(ctx context.Context, conn *pgx.Conn) (problems []string, err error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("invariants: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '128MB'"); err != nil {
		return nil, fmt.Errorf("invariants: %w", err)
	}
	// Tile pre-aggregates against a recount, both ways.
	recount := tileCellsRollup("incidents")
	rows, err := tx.Query(ctx, `SELECT 'kept', * FROM (TABLE tile_cells EXCEPT ALL (`+recount+`)) a
		UNION ALL SELECT 'recounted', * FROM ((`+recount+`) EXCEPT ALL TABLE tile_cells) b ORDER BY 3, 4, 5, 1 LIMIT 6`)
	if err != nil {
		return nil, fmt.Errorf("tile_cells recount: %w", err)
	}
	var diffs []string
	for rows.Next() {
		var side, typ string
		var level int16
		var key, n, fat, lonSum, latSum, idSum int64
		if err := rows.Scan(&side, &level, &key, &typ, &n, &fat, &lonSum, &latSum, &idSum); err != nil {
			rows.Close()
			return nil, fmt.Errorf("tile_cells recount: %w", err)
		}
		diffs = append(diffs, fmt.Sprintf("%s level %d key %d %q n %d fatalities %d", side, level, key, typ, n, fat))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tile_cells recount: %w", err)
	}
	if len(diffs) > 0 {
		problems = append(problems, "tile_cells: the pre-aggregates differ from a recount of the incidents: "+strings.Join(diffs, "; "))
	}

	// Each cell key against the point.
	rows, err = tx.Query(ctx, "SELECT id, lon, lat, cell FROM incidents ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("cells: %w", err)
	}
	var badCells []string
	nBad := 0
	for rows.Next() {
		var id, cell int64
		var lon, lat float64
		if err := rows.Scan(&id, &lon, &lat, &cell); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cells: %w", err)
		}
		if want := geo.Cell(lon, lat); cell != want {
			nBad++
			if len(badCells) < 5 {
				badCells = append(badCells, fmt.Sprintf("incident %d cell %d, its point's is %d", id, cell, want))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cells: %w", err)
	}
	if nBad > 0 {
		problems = append(problems, fmt.Sprintf("cells: %d incidents' cell keys are not their points' (%s)", nBad, strings.Join(badCells, "; ")))
	}

	// Stored tsvectors against their expression (from the catalogue: this
	// database's own definition of the column).
	var expr string
	if err := tx.QueryRow(ctx, `SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
		JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
		WHERE d.adrelid = 'incidents'::regclass AND a.attname = 'fts'`).Scan(&expr); err != nil {
		return nil, fmt.Errorf("full text: the expression of incidents.fts: %w", err)
	}
	var stale int64
	var staleIDs []int64
	if err := tx.QueryRow(ctx, `SELECT count(*), (array_agg(id ORDER BY id))[1:5] FROM incidents
		WHERE fts IS DISTINCT FROM (`+expr+`)`).Scan(&stale, &staleIDs); err != nil {
		return nil, fmt.Errorf("full text: %w", err)
	}
	if stale > 0 {
		problems = append(problems, fmt.Sprintf("full text: %d incidents' stored words are not what their text gives now (ids %v)", stale, staleIDs))
	}

	// A sample through the GIN and GiST indexes: id + 0 keeps the primary
	// key out of the plan, and without sequential or plain index scans the
	// planner can only use the bitmap of the index under test.
	if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off"); err != nil {
		return nil, fmt.Errorf("index sample: %w", err)
	}
	rows, err = tx.Query(ctx, `WITH n AS (SELECT count(*) AS n FROM incidents)
		SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM incidents) s, n
		WHERE s.k % greatest(n.n / $1, 1) = 0
		UNION SELECT id FROM (SELECT id FROM incidents ORDER BY id DESC LIMIT 20) t ORDER BY 1`, ftsSampleRows)
	if err != nil {
		return nil, fmt.Errorf("index sample: %w", err)
	}
	sample, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("index sample: %w", err)
	}
	var missFTS, missGeom []int64
	for _, id := range sample {
		var words, point bool
		if err := tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM incidents i WHERE i.fts @@ coalesce((SELECT string_agg(quote_literal(w), ' & ')
				FROM incidents x, unnest(tsvector_to_array(x.fts)) w WHERE x.id = $1), '')::tsquery AND i.id + 0 = $1)
				OR NOT EXISTS (SELECT 1 FROM incidents x WHERE x.id = $1 AND x.fts <> ''::tsvector),
			EXISTS (SELECT 1 FROM incidents i, (SELECT geom FROM incidents WHERE id = $1) x
				WHERE i.geom && x.geom AND i.id + 0 = $1)`, id).Scan(&words, &point); err != nil {
			return nil, fmt.Errorf("index sample: incident %d: %w", id, err)
		}
		if !words {
			missFTS = append(missFTS, id)
		}
		if !point {
			missGeom = append(missGeom, id)
		}
	}
	if len(missFTS) > 0 {
		problems = append(problems, fmt.Sprintf("full text: the index does not find incidents %v by their own words (%d sampled)", missFTS, len(sample)))
	}
	if len(missGeom) > 0 {
		problems = append(problems, fmt.Sprintf("geometry: the spatial index does not find incidents %v at their points (%d sampled)", missGeom, len(sample)))
	}
	if _, err := tx.Exec(ctx, "RESET enable_seqscan; RESET enable_indexscan; RESET enable_indexonlyscan"); err != nil {
		return nil, fmt.Errorf("index sample: %w", err)
	}

	// The change log: the data version, the change feed and history rest
	// on every write leaving an entry.
	var unlogged, deletedLast, lost int64
	var unloggedIDs, deletedIDs, lostIDs []int64
	if err := tx.QueryRow(ctx, `WITH last AS (SELECT DISTINCT ON (incident_id) incident_id, op FROM change_log ORDER BY incident_id, seq DESC),
		j AS (SELECT coalesce(i.id, l.incident_id) AS id, i.id IS NOT NULL AS stored, l.op FROM incidents i FULL JOIN last l ON l.incident_id = i.id)
		SELECT count(*) FILTER (WHERE stored AND op IS NULL), coalesce((array_agg(id ORDER BY id) FILTER (WHERE stored AND op IS NULL))[1:5], '{}'),
			count(*) FILTER (WHERE stored AND op = 'deleted'), coalesce((array_agg(id ORDER BY id) FILTER (WHERE stored AND op = 'deleted'))[1:5], '{}'),
			count(*) FILTER (WHERE NOT stored AND op <> 'deleted'), coalesce((array_agg(id ORDER BY id) FILTER (WHERE NOT stored AND op <> 'deleted'))[1:5], '{}')
		FROM j`).Scan(&unlogged, &unloggedIDs, &deletedLast, &deletedIDs, &lost, &lostIDs); err != nil {
		return nil, fmt.Errorf("change log: %w", err)
	}
	if unlogged > 0 {
		problems = append(problems, fmt.Sprintf("change log: %d incidents have no entry (ids %v)", unlogged, unloggedIDs))
	}
	if deletedLast > 0 {
		problems = append(problems, fmt.Sprintf("change log: %d stored incidents' last entry is a delete (ids %v)", deletedLast, deletedIDs))
	}
	if lost > 0 {
		problems = append(problems, fmt.Sprintf("change log: %d incidents are logged as created or updated last but are not stored (ids %v)", lost, lostIDs))
	}
	return problems, nil
}
