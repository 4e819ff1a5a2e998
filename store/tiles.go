package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb/maptile"

	"incidentmap/geo"

	"incidentmap/incident"
)

// tileGridShift is how far a cell key shifts right to name its cell of
// the cluster grid of a tile of zoom z: incident.TileGridSize (64) cells a
// side, those of zoom z+6, or single cells at CellZoom.
func tileGridShift(z uint32) uint {
	return uint(2 * (geo.CellZoom - min(z+6, geo.CellZoom)))
}

// tileConditions are f's conditions without a bbox: a tile's key range is
// its exact extent.
func tileConditions(filter incident.Filter) (string, []any, error) {
	filter.BBox = nil
	f, err := compile(filter)
	if err != nil {
		return "", nil, err
	}
	conds, args := f.conditions()
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " AND " + strings.Join(conds, " AND "), args, nil
}

// TilePoints returns up to limit incidents f selects inside the key range r
// (one Web Mercator tile, geo.TileCells), in key order, from the columns a
// tile needs. A full result means there may be more.
func (s *SQLite) TilePoints(ctx context.Context, f incident.Filter, t maptile.Tile, limit int) ([]incident.TilePoint, error) {
	r := geo.TileCells(uint32(t.Z), t.X, t.Y)
	defer s.geoms.pin(f.Expr)()
	cond, args, err := tileConditions(f)
	if err != nil {
		return nil, err
	}
	out, err := readTilePoints(s.ro.QueryContext(ctx, `SELECT `+tilePointColumns+`
		FROM incidents i INDEXED BY incidents_cell WHERE i.cell BETWEEN ? AND ?`+cond+` ORDER BY i.cell LIMIT ?`,
		append(append([]any{r.Lo, r.Hi}, args...), limit)...))
	if err != nil {
		return nil, fmt.Errorf("tile points: %w", err)
	}
	return out, nil
}

// tilePointColumns are the columns of a TilePoint, in readTilePoints' order.
const tilePointColumns = "i.id, i.lon, i.lat, i.fatalities, i.event_date, i.event_type"

// readTilePoints reads the rows of a query of tilePointColumns, or returns
// the query's error.
func readTilePoints(rows *sql.Rows, err error) ([]incident.TilePoint, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []incident.TilePoint
	for rows.Next() {
		var p incident.TilePoint
		if err := rows.Scan(&p.ID, &p.Lon, &p.Lat, &p.Fatalities, &p.EventDate, &p.EventType); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TileGrid groups the incidents f selects in tile t by grid cell (their key
// shifted right by the grid's shift: cells TileGridSize a side) and returns
// the non-empty cells in key order, all in one read snapshot. From the
// pre-aggregates (tileagg.go) when they answer f at the tile's zoom,
// otherwise from the incidents under the tile (tileGridScan). A cell of one
// incident names it by id and fatalities only (TilePointsByID reads the
// rest for the few a tile draws).
func (s *SQLite) TileGrid(ctx context.Context, f incident.Filter, t maptile.Tile) ([]incident.TileCell, error) {
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("tile grid: %w", err)
	}
	defer tx.Rollback()
	var cells []incident.TileCell
	level, _, kept := geo.TileAggGrid(uint32(t.Z), t.X, t.Y)
	if types, ok := incident.TileTypes(f); ok && kept {
		cells, err = tileGridAgg(ctx, tx, types, t)
	} else if span, ok := tilePeriodsOf(f); ok && kept && tilePeriodLevel(level) {
		cells, err = tileGridPeriods(ctx, tx, span, t)
	} else {
		cells, err = s.tileGridScan(ctx, tx, f, t)
	}
	if err != nil {
		return nil, fmt.Errorf("tile grid: %w", err)
	}
	return cells, nil
}

// typesCond is the condition on event_type of a pre-aggregate query for
// types (nil: all, the rows of all types, the empty type), with its arguments.
func typesCond(types []string) (string, []any) {
	if types == nil {
		return " AND event_type = ''", nil
	}
	a := make([]any, len(types))
	for i, v := range types {
		a[i] = v
	}
	return " AND event_type IN (" + placeholders(len(types)) + ")", a
}

// tileGridAgg reads the grid of tile t from tile_cells: the rows of its
// level under the tile, summed over the event types selected, in key order
// (the primary key's), so no sort.
func tileGridAgg(ctx context.Context, tx *sql.Tx, types []string, t maptile.Tile) ([]incident.TileCell, error) {
	if types != nil && len(types) == 0 {
		return nil, nil
	}
	level, keys, _ := geo.TileAggGrid(uint32(t.Z), t.X, t.Y)
	cond, args := typesCond(types)
	// The cells come as one text of integers, "key,n,fatalities,lon sum,lat
	// sum,id sum;…": a row per cell cost more in the driver (some 2 µs a row
	// through cgo) than SQLite took to read it, and a tile's layout reads
	// nine grids.
	sum := "sum(n) AS n, sum(fatalities) AS f, sum(lon_sum) AS lo, sum(lat_sum) AS la, sum(id_sum) AS i"
	if types == nil {
		sum = "n, fatalities AS f, lon_sum AS lo, lat_sum AS la, id_sum AS i" // one row a cell: the empty type's
	}
	return readGridText(ctx, tx, `SELECT group_concat(key || ',' || n || ',' || f || ',' || lo || ',' || la || ',' || i, ';')
		FROM (SELECT key, `+sum+` FROM tile_cells WHERE level = ? AND key BETWEEN ? AND ?`+cond+` GROUP BY key)`,
		append([]any{level, keys.Lo, keys.Hi}, args...))
}

// readGridText runs q, which selects one text of cells "key,n,fatalities,
// lon sum,lat sum,id sum;…" (NULL: none), and returns the cells in key order.
func readGridText(ctx context.Context, tx *sql.Tx, q string, args []any) ([]incident.TileCell, error) {
	var text sql.NullString
	err := tx.QueryRowContext(ctx, q, args...).Scan(&text)
	if err != nil || !text.Valid {
		return nil, err
	}
	recs := strings.Split(text.String, ";")
	cells := make([]incident.TileCell, 0, len(recs))
	for _, rec := range recs {
		var v [6]int64
		for i := range v {
			field, rest, _ := strings.Cut(rec, ",")
			if v[i], err = strconv.ParseInt(field, 10, 64); err != nil {
				return nil, fmt.Errorf("pre-aggregate %q: %w", rec, err)
			}
			rec = rest
		}
		cells = append(cells, newTileCell(v[0], v[1], v[2], v[3], v[4], v[5]))
	}
	slices.SortFunc(cells, func(a, b incident.TileCell) int { return cmp.Compare(a.Key, b.Key) })
	return cells, nil
}

// newTileCell is a cell from its sums; a cell of one incident names it by
// id (idSum) and fatalities.
func newTileCell(key, n, fat, lonSum, latSum, idSum int64) incident.TileCell {
	c := incident.TileCell{Key: key, Count: int(n), Fatalities: int(fat)}
	c.Lon, c.Lat = incident.TileCentroid(lonSum, latSum, n)
	if n == 1 {
		c.Single = &incident.TilePoint{ID: idSum, Fatalities: int(fat)}
	}
	return c
}

// TileCount says how many incidents f selects in tile t when the
// pre-aggregates answer f at the tile's zoom (one cell of level z); ok is
// false otherwise.
func (s *SQLite) TileCount(ctx context.Context, f incident.Filter, t maptile.Tile) (int64, bool, error) {
	types, ok := incident.TileTypes(f)
	level, key, kept := geo.TileAggCell(uint32(t.Z), t.X, t.Y)
	if span, byPeriod := tilePeriodsOf(f); byPeriod && kept && tilePeriodLevel(level) {
		n, err := tileCountPeriods(ctx, s.ro, span, t)
		if err != nil {
			return 0, false, fmt.Errorf("tile count: %w", err)
		}
		return n, true, nil
	}
	if !ok || !kept {
		return 0, false, nil
	}
	if types != nil && len(types) == 0 {
		return 0, true, nil
	}
	cond, args := typesCond(types)
	var n int64
	err := s.ro.QueryRowContext(ctx, `SELECT coalesce(sum(n), 0) FROM tile_cells WHERE level = ? AND key = ?`+cond,
		append([]any{level, key}, args...)...).Scan(&n)
	if err != nil {
		return 0, false, fmt.Errorf("tile count: %w", err)
	}
	return n, true, nil
}

// tileGroupZoom is the zoom from which tileGridScan groups a tile's
// incidents in one pass: its grid cells (level 19 on) hold a few each.
const tileGroupZoom = 13

// tileGridScan computes the grid of tile t from the incidents under it.
// Every grid cell is its own key range, so SQLite aggregates each (count,
// fatalities, coordinate sums) straight from the cell index in one
// correlated subquery, in key order: a GROUP BY would sort all the tile's
// incidents first (2.5× slower for a tile of 800,000), and streaming them
// into Go costlier still.
func (s *SQLite) tileGridScan(ctx context.Context, tx *sql.Tx, f incident.Filter, t maptile.Tile) ([]incident.TileCell, error) {
	r := geo.TileCells(uint32(t.Z), t.X, t.Y)
	shift := tileGridShift(uint32(t.Z))
	defer s.geoms.pin(f.Expr)()
	cond, args, err := tileConditions(f)
	if err != nil {
		return nil, err
	}
	if t.Z >= tileGroupZoom {
		// Cells of a few incidents each: one pass over the tile's range of
		// the cell index, grouped (a walk cell by cell spent two seeks and
		// a subquery on each: 17 against 6.5 ms of CPU for a z13 tile of
		// 6,248 incidents in 3,197 cells).
		return readGridText(ctx, tx, `SELECT group_concat(k || ',' || n || ',' || f || ',' || lo || ',' || la || ',' || i, ';')
			FROM (SELECT i.cell >> ? AS k, count(*) AS n, sum(i.fatalities) AS f, sum(`+fixed(fixedLon, "i")+`) AS lo,
				sum(`+fixed(fixedLat, "i")+`) AS la, min(i.id) AS i
			FROM incidents i INDEXED BY incidents_cell WHERE i.cell BETWEEN ? AND ?`+cond+` GROUP BY 1)`,
			append([]any{shift, r.Lo, r.Hi}, args...))
	}
	// g walks the grid cells that hold any incident, each found by one index
	// seek past the previous, so an empty or sparse tile costs next to nothing
	// (probing all 4,096 cells cost 5–30 ms even for an empty tile).
	rows, err := tx.QueryContext(ctx, `WITH RECURSIVE g(k) AS (
			SELECT (SELECT cell >> ? FROM incidents INDEXED BY incidents_cell WHERE cell BETWEEN ? AND ? ORDER BY cell LIMIT 1)
			UNION ALL
			SELECT (SELECT cell >> ? FROM incidents INDEXED BY incidents_cell WHERE cell BETWEEN (g.k + 1) << ? AND ? ORDER BY cell LIMIT 1)
			FROM g WHERE g.k IS NOT NULL),
		c AS MATERIALIZED (SELECT k, (SELECT json_array(count(*), sum(i.fatalities), sum(`+fixed(fixedLon, "i")+`),
				sum(`+fixed(fixedLat, "i")+`), min(i.id))
			FROM incidents i INDEXED BY incidents_cell WHERE i.cell BETWEEN g.k << ? AND ((g.k + 1) << ?) - 1`+cond+`) AS a
			FROM g WHERE g.k IS NOT NULL)
		SELECT k, a FROM c WHERE a NOT LIKE '[0,%'`,
		append([]any{shift, r.Lo, r.Hi, shift, shift, r.Hi, shift, shift}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cells []incident.TileCell
	for rows.Next() {
		var key int64
		var agg string
		if err := rows.Scan(&key, &agg); err != nil {
			return nil, err
		}
		c, err := parseCellAggregate(key, agg)
		if err != nil {
			return nil, fmt.Errorf("cell %d: %w", key, err)
		}
		cells = append(cells, c)
	}
	return cells, rows.Err()
}

// TilePointsByID returns the incidents of ids that exist, in id order,
// with the columns a tile draws: the singles of the clusters a tile keeps
// (TileGrid names them by id), a few dozen at most.
func (s *SQLite) TilePointsByID(ctx context.Context, ids []int64) ([]incident.TilePoint, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	points, err := readTilePoints(s.ro.QueryContext(ctx, `SELECT `+tilePointColumns+` FROM incidents i
		WHERE i.id IN (`+placeholders(len(ids))+`) ORDER BY i.id`, args...))
	if err != nil {
		return nil, fmt.Errorf("tile points by id: %w", err)
	}
	return points, nil
}

// parseCellAggregate reads tileGridScan's [count, fatalities, lon sum,
// lat sum, min id] of the cell key.
func parseCellAggregate(key int64, agg string) (incident.TileCell, error) {
	parts := strings.Split(strings.Trim(agg, "[]"), ",")
	if len(parts) != 5 {
		return incident.TileCell{}, fmt.Errorf("aggregate %q", agg)
	}
	var v [5]int64
	var errs [5]error
	for i := range parts {
		v[i], errs[i] = strconv.ParseInt(parts[i], 10, 64)
	}
	if err := errors.Join(errs[:]...); err != nil {
		return incident.TileCell{}, fmt.Errorf("aggregate %q: %w", agg, err)
	}
	return newTileCell(key, v[0], v[1], v[2], v[3], v[4]), nil
}
