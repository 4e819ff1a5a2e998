package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/paulmach/orb/maptile"

	"incidentmap/geo"

	"incidentmap/incident"
)

// TilePoint is incident.TilePoint.
type TilePoint = incident.TilePoint

// TileCell is incident.TileCell.
type TileCell = incident.TileCell

// tileGridShift is how far a cell key shifts right to name its cell of
// the cluster grid of a tile of zoom z: incident.TileGridSize (64) cells a
// side, those of zoom z+6, or single cells at CellZoom.
func tileGridShift(z uint32) uint {
	return uint(2 * (geo.CellZoom - min(z+6, geo.CellZoom)))
}

// tileConditions are f's conditions without a bbox: a tile's key range is
// its exact extent.
func tileConditions(filter Filter) (string, []any, error) {
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
func (s *SQLite) TilePoints(ctx context.Context, f Filter, t maptile.Tile, limit int) ([]TilePoint, error) {
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
func readTilePoints(rows *sql.Rows, err error) ([]TilePoint, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TilePoint
	for rows.Next() {
		var p TilePoint
		if err := rows.Scan(&p.ID, &p.Lon, &p.Lat, &p.Fatalities, &p.EventDate, &p.EventType); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TileGrid groups the incidents f selects inside the key range r by their
// key shifted right by shift — cells of the quadtree shift/2 zoom levels
// below the range's tile — and returns the non-empty cells in key order, all
// in one read snapshot. Every grid cell is its own key range, so SQLite
// aggregates each (count, fatalities, centroid) straight from the cell index
// in one correlated subquery, in key order: a GROUP BY would sort all the
// tile's incidents first (2.5× slower for a tile of 800,000), and streaming
// them into Go costlier still. Only incidents alone in their cell are read
// whole.
func (s *SQLite) TileGrid(ctx context.Context, f Filter, t maptile.Tile) ([]TileCell, error) {
	r := geo.TileCells(uint32(t.Z), t.X, t.Y)
	shift := tileGridShift(uint32(t.Z))
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("tile grid: %w", err)
	}
	defer tx.Rollback()
	defer s.geoms.pin(f.Expr)()
	cond, args, err := tileConditions(f)
	if err != nil {
		return nil, err
	}
	// g walks the grid cells that hold any incident, each found by one index
	// seek past the previous, so an empty or sparse tile costs next to nothing
	// (probing all 4,096 cells cost 5–30 ms even for an empty tile).
	rows, err := tx.QueryContext(ctx, `WITH RECURSIVE g(k) AS (
			SELECT (SELECT cell >> ? FROM incidents INDEXED BY incidents_cell WHERE cell BETWEEN ? AND ? ORDER BY cell LIMIT 1)
			UNION ALL
			SELECT (SELECT cell >> ? FROM incidents INDEXED BY incidents_cell WHERE cell BETWEEN (g.k + 1) << ? AND ? ORDER BY cell LIMIT 1)
			FROM g WHERE g.k IS NOT NULL),
		c AS MATERIALIZED (SELECT k, (SELECT json_array(count(*), sum(i.fatalities), avg(i.lon), avg(i.lat), min(i.id))
			FROM incidents i INDEXED BY incidents_cell WHERE i.cell BETWEEN g.k << ? AND ((g.k + 1) << ?) - 1`+cond+`) AS a
			FROM g WHERE g.k IS NOT NULL)
		SELECT k, a FROM c WHERE a NOT LIKE '[0,%'`,
		append([]any{shift, r.Lo, r.Hi, shift, shift, r.Hi, shift, shift}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("tile grid: %w", err)
	}
	var cells []TileCell
	var singles []any // ids of the cells of one incident
	for rows.Next() {
		var c TileCell
		var agg string
		if err := rows.Scan(&c.Key, &agg); err != nil {
			rows.Close()
			return nil, fmt.Errorf("tile grid: %w", err)
		}
		id, err := parseCellAggregate(agg, &c)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("tile grid: cell %d: %w", c.Key, err)
		}
		if c.Count == 1 {
			c.Single = &TilePoint{ID: id}
			singles = append(singles, id)
		}
		cells = append(cells, c)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("tile grid: %w", err)
	}
	if len(singles) == 0 {
		return cells, nil
	}
	byID := make(map[int64]*TilePoint, len(singles))
	for i := range cells {
		if p := cells[i].Single; p != nil {
			byID[p.ID] = p
		}
	}
	// A grid has at most a few thousand cells: one IN list reads them all.
	points, err := readTilePoints(tx.QueryContext(ctx, `SELECT `+tilePointColumns+` FROM incidents i
		WHERE i.id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(singles)), ",")+`)`, singles...))
	if err != nil {
		return nil, fmt.Errorf("tile grid: %w", err)
	}
	for _, p := range points {
		if q := byID[p.ID]; q != nil {
			*q = p
		}
	}
	return cells, nil
}

// parseCellAggregate reads TileGrid's [count, fatalities, lon, lat, min id]
// into c and returns the id.
func parseCellAggregate(agg string, c *TileCell) (int64, error) {
	parts := strings.Split(strings.Trim(agg, "[]"), ",")
	if len(parts) != 5 {
		return 0, fmt.Errorf("aggregate %q", agg)
	}
	var errs [5]error
	var n, f, id int64
	n, errs[0] = strconv.ParseInt(parts[0], 10, 64)
	f, errs[1] = strconv.ParseInt(parts[1], 10, 64)
	c.Lon, errs[2] = strconv.ParseFloat(parts[2], 64)
	c.Lat, errs[3] = strconv.ParseFloat(parts[3], 64)
	id, errs[4] = strconv.ParseInt(parts[4], 10, 64)
	if err := errors.Join(errs[:]...); err != nil {
		return 0, fmt.Errorf("aggregate %q: %w", agg, err)
	}
	c.Count, c.Fatalities = int(n), int(f)
	return id, nil
}
