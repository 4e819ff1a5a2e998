package postgis

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/maptile"

	"incidentmap/geo"
	"incidentmap/incident"
)

// The tile pre-aggregates, as the SQLite engine keeps them (see
// incident.TileAggMinLevel): tile_cells holds per cell of every level and
// event type the count, fatalities and sums of fixed-point coordinates and
// ids. Statement triggers with transition tables keep it: one grouping of
// the rows a statement wrote, so an import of a million rows updates it in
// one pass instead of thirteen upserts a row.

// tileCellsMigration is migration 3.
var tileCellsMigration = fmt.Sprintf(`CREATE TABLE tile_cells (
		level      smallint NOT NULL,
		key        bigint   NOT NULL,
		event_type text     NOT NULL,
		n          bigint   NOT NULL CHECK (n >= 0),
		fatalities bigint   NOT NULL,
		lon_sum    bigint   NOT NULL,
		lat_sum    bigint   NOT NULL,
		id_sum     bigint   NOT NULL,
		PRIMARY KEY (level, key, event_type)
	);
	CREATE FUNCTION tile_cells_change() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF TG_OP IN ('UPDATE', 'DELETE') THEN
			UPDATE tile_cells t SET n = t.n - g.n, fatalities = t.fatalities - g.fatalities, lon_sum = t.lon_sum - g.lon_sum,
				lat_sum = t.lat_sum - g.lat_sum, id_sum = t.id_sum - g.id_sum
				FROM (%[1]s) g WHERE (t.level, t.key, t.event_type) = (g.level, g.key, g.event_type);
			DELETE FROM tile_cells t USING (%[1]s) g
				WHERE (t.level, t.key, t.event_type) = (g.level, g.key, g.event_type) AND t.n = 0;
		END IF;
		IF TG_OP IN ('UPDATE', 'INSERT') THEN
			INSERT INTO tile_cells %[2]s
				ON CONFLICT (level, key, event_type) DO UPDATE SET n = tile_cells.n + excluded.n,
					fatalities = tile_cells.fatalities + excluded.fatalities, lon_sum = tile_cells.lon_sum + excluded.lon_sum,
					lat_sum = tile_cells.lat_sum + excluded.lat_sum, id_sum = tile_cells.id_sum + excluded.id_sum;
		END IF;
		RETURN NULL;
	END $$;
	INSERT INTO tile_cells %[3]s;
	CREATE TRIGGER tile_cells_insert AFTER INSERT ON incidents REFERENCING NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_change();
	CREATE TRIGGER tile_cells_update AFTER UPDATE ON incidents REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_change();
	CREATE TRIGGER tile_cells_delete AFTER DELETE ON incidents REFERENCING OLD TABLE AS old_rows
		FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_change();`,
	tileCellsOf("old_rows"), tileCellsOf("new_rows"), tileCellsOf("incidents"))

// tileCellsOf is the SELECT of the sums per cell of every level and event
// type of the incidents in table (a transition table or incidents itself):
// grouped by the finest cell first, then rolled up to every level.
func tileCellsOf(table string) string {
	return fmt.Sprintf(`SELECT l::smallint AS level, a.k >> (2 * (%[1]d - l)) AS key, a.event_type, sum(a.n)::bigint AS n,
		sum(a.fatalities)::bigint AS fatalities, sum(a.lon_sum)::bigint AS lon_sum, sum(a.lat_sum)::bigint AS lat_sum, sum(a.id_sum)::bigint AS id_sum
		FROM (SELECT r.cell >> %[3]d AS k, r.event_type, count(*) AS n, sum(r.fatalities) AS fatalities,
			sum(trunc(r.lon * 10000000)::bigint) AS lon_sum, sum(trunc(r.lat * 10000000)::bigint) AS lat_sum, sum(r.id) AS id_sum
			FROM %[5]s r GROUP BY 1, 2) a, generate_series(%[4]d, %[1]d) l GROUP BY 1, 2, 3`,
		incident.TileAggMaxLevel, geo.CellZoom, 2*(geo.CellZoom-incident.TileAggMaxLevel), incident.TileAggMinLevel, table)
}

// tileCellsRollup is the same rows as tileCellsOf(table), computed level by
// level: the finest cells grouped from the rows, then each coarser level
// from the one below it (four cells into one). tileCellsOf hashes every
// finest cell thirteen times (once a level, 1.3 million rows for 100,000
// incidents) and sums sums as numeric; here each level groups only the
// cells of the level below, all in bigint. Each level is a CTE read twice
// (by the next coarser level and the result), so PostgreSQL computes it once.
func tileCellsRollup(table string) string {
	var ctes, parts []string
	top := incident.TileAggMaxLevel
	ctes = append(ctes, fmt.Sprintf(`l%d AS (SELECT r.cell >> %d AS key, r.event_type, count(*) AS n,
		sum(r.fatalities)::bigint AS fatalities, sum(trunc(r.lon * 10000000)::bigint)::bigint AS lon_sum,
		sum(trunc(r.lat * 10000000)::bigint)::bigint AS lat_sum, sum(r.id)::bigint AS id_sum
		FROM %s r GROUP BY 1, 2)`, top, 2*(geo.CellZoom-top), table))
	for l := top - 1; l >= incident.TileAggMinLevel; l-- {
		ctes = append(ctes, fmt.Sprintf(`l%d AS (SELECT key >> 2 AS key, event_type, sum(n)::bigint AS n,
		sum(fatalities)::bigint AS fatalities, sum(lon_sum)::bigint AS lon_sum, sum(lat_sum)::bigint AS lat_sum,
		sum(id_sum)::bigint AS id_sum FROM l%d GROUP BY 1, 2)`, l, l+1))
	}
	for l := top; l >= incident.TileAggMinLevel; l-- {
		parts = append(parts, fmt.Sprintf("SELECT %d::smallint AS level, key, event_type, n, fatalities, lon_sum, lat_sum, id_sum FROM l%d", l, l))
	}
	return "WITH " + strings.Join(ctes, ",\n\t") + "\n\t" + strings.Join(parts, "\n\tUNION ALL ")
}

// tileCellsChangeMigration replaces the tile pre-aggregates' trigger
// function with one that groups a statement's rows by tileCellsRollup: the
// same sums, a fraction of the time for a statement of many rows (an
// import's INSERT spent a third of its time in the old one).
var tileCellsChangeMigration = fmt.Sprintf(`CREATE OR REPLACE FUNCTION tile_cells_change() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF TG_OP IN ('UPDATE', 'DELETE') THEN
			UPDATE tile_cells t SET n = t.n - g.n, fatalities = t.fatalities - g.fatalities, lon_sum = t.lon_sum - g.lon_sum,
				lat_sum = t.lat_sum - g.lat_sum, id_sum = t.id_sum - g.id_sum
				FROM (%[1]s) g WHERE (t.level, t.key, t.event_type) = (g.level, g.key, g.event_type);
			DELETE FROM tile_cells t USING (%[1]s) g
				WHERE (t.level, t.key, t.event_type) = (g.level, g.key, g.event_type) AND t.n = 0;
		END IF;
		IF TG_OP IN ('UPDATE', 'INSERT') THEN
			INSERT INTO tile_cells %[2]s
				ON CONFLICT (level, key, event_type) DO UPDATE SET n = tile_cells.n + excluded.n,
					fatalities = tile_cells.fatalities + excluded.fatalities, lon_sum = tile_cells.lon_sum + excluded.lon_sum,
					lat_sum = tile_cells.lat_sum + excluded.lat_sum, id_sum = tile_cells.id_sum + excluded.id_sum;
		END IF;
		RETURN NULL;
	END $$;`, tileCellsRollup("old_rows"), tileCellsRollup("new_rows"))

// tileGridAgg reads the grid of tile t from tile_cells, summed over the
// event types selected (nil: all), in key order.
func (p *PostGIS) tileGridAgg(ctx context.Context, types []string, t maptile.Tile) ([]incident.TileCell, error) {
	if types != nil && len(types) == 0 {
		return nil, nil
	}
	level, keys, _ := geo.TileAggGrid(uint32(t.Z), t.X, t.Y)
	args := []any{level, keys.Lo, keys.Hi}
	cond := ""
	if types != nil {
		cond = " AND event_type = ANY($4)"
		args = append(args, types)
	}
	rows, err := p.reader().Query(ctx, `SELECT key, sum(n)::bigint, sum(fatalities)::bigint, sum(lon_sum)::bigint, sum(lat_sum)::bigint, sum(id_sum)::bigint
		FROM tile_cells WHERE level = $1 AND key BETWEEN $2 AND $3`+cond+` GROUP BY key ORDER BY key`, args...)
	if err != nil {
		return nil, err
	}
	cells, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (incident.TileCell, error) {
		var key, n, fat, lonSum, latSum, idSum int64
		if err := row.Scan(&key, &n, &fat, &lonSum, &latSum, &idSum); err != nil {
			return incident.TileCell{}, err
		}
		c := incident.TileCell{Key: key, Count: int(n), Fatalities: int(fat)}
		c.Lon, c.Lat = incident.TileCentroid(lonSum, latSum, n)
		if n == 1 {
			c.Single = &incident.TilePoint{ID: idSum, Fatalities: int(fat)}
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return cells, nil
}

// TileCount says how many incidents f selects in tile t when the
// pre-aggregates answer f at the tile's zoom; ok is false otherwise.
func (p *PostGIS) TileCount(ctx context.Context, f incident.Filter, t maptile.Tile) (int64, bool, error) {
	types, ok := incident.TileTypes(f)
	level, key, kept := geo.TileAggCell(uint32(t.Z), t.X, t.Y)
	if !ok || !kept {
		return 0, false, nil
	}
	if types != nil && len(types) == 0 {
		return 0, true, nil
	}
	args := []any{level, key}
	cond := ""
	if types != nil {
		cond = " AND event_type = ANY($3)"
		args = append(args, types)
	}
	var n int64
	if err := p.reader().QueryRow(ctx, "SELECT coalesce(sum(n), 0)::bigint FROM tile_cells WHERE level = $1 AND key = $2"+cond, args...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("tile count: %w", err)
	}
	return n, true, nil
}
