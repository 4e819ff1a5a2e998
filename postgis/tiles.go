package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/maptile"

	"incidentmap/geo"
	"incidentmap/incident"
)

// tileRange is the cell key range of tile t and the shift of its cluster
// grid (incident.TileGridSize cells a side), as the SQLite engine uses them,
// so both engines put every incident in the same tile and grid cell.
func tileRange(t maptile.Tile) (geo.CellRange, uint) {
	z := uint32(t.Z)
	return geo.TileCells(z, t.X, t.Y), uint(2 * (geo.CellZoom - min(z+6, geo.CellZoom)))
}

// tileQuery compiles f without its bbox (a tile is its key range) and adds
// the range.
func tileQuery(f incident.Filter, r geo.CellRange) (*query, error) {
	f.BBox = nil
	q, err := compile(f)
	if err != nil {
		return nil, err
	}
	q.conds = append(q.conds, "i.cell BETWEEN "+q.arg(r.Lo)+" AND "+q.arg(r.Hi))
	return q, nil
}

func scanTilePoint(row pgx.CollectableRow) (incident.TilePoint, error) {
	var p incident.TilePoint
	var fat int32
	err := row.Scan(&p.ID, &p.Lon, &p.Lat, &fat, &p.EventDate, &p.EventType)
	p.Fatalities = int(fat)
	return p, err
}

// TilePoints returns up to limit incidents f selects in tile t, in key order.
func (p *PostGIS) TilePoints(ctx context.Context, f incident.Filter, t maptile.Tile, limit int) ([]incident.TilePoint, error) {
	r, _ := tileRange(t)
	q, err := tileQuery(f, r)
	if err != nil {
		return nil, err
	}
	rows, err := p.reader().Query(ctx, "SELECT i.id, i.lon, i.lat, i.fatalities, i.event_date, i.event_type FROM incidents i"+
		q.where()+" ORDER BY i.cell, i.lon, i.lat, i.event_date, i.fatalities, i.id LIMIT "+q.arg(int64(limit)), q.args...)
	if err != nil {
		return nil, fmt.Errorf("tile points: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanTilePoint)
	if err != nil {
		return nil, fmt.Errorf("tile points: %w", err)
	}
	return out, nil
}

// TileGrid clusters the incidents f selects in tile t by grid cell (the
// cell key shifted right): count, fatalities, centroid, and the id of the
// incident where a cell holds one. From the pre-aggregates when they answer
// f at the tile's zoom (tileagg.go), otherwise in SQL over the incidents
// under the tile.
func (p *PostGIS) TileGrid(ctx context.Context, f incident.Filter, t maptile.Tile) ([]incident.TileCell, error) {
	if types, ok := incident.TileTypes(f); ok && geo.TileAggKept(uint32(t.Z)) {
		cells, err := p.tileGridAgg(ctx, types, t)
		if err != nil {
			return nil, fmt.Errorf("tile grid: %w", err)
		}
		return cells, nil
	}
	r, shift := tileRange(t)
	q, err := tileQuery(f, r)
	if err != nil {
		return nil, err
	}
	s := q.arg(int64(shift))
	rows, err := p.reader().Query(ctx, `SELECT i.cell >> `+s+`::int AS k, count(*), sum(i.fatalities),
		sum(trunc(i.lon * 10000000)::bigint)::bigint, sum(trunc(i.lat * 10000000)::bigint)::bigint,
		min(i.id)
		FROM incidents i`+q.where()+` GROUP BY 1 ORDER BY 1`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("tile grid: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (incident.TileCell, error) {
		var c incident.TileCell
		var n, fat, lonSum, latSum, id int64
		if err := row.Scan(&c.Key, &n, &fat, &lonSum, &latSum, &id); err != nil {
			return c, err
		}
		c.Count, c.Fatalities = int(n), int(fat)
		c.Lon, c.Lat = incident.TileCentroid(lonSum, latSum, n)
		if n == 1 {
			c.Single = &incident.TilePoint{ID: id, Fatalities: int(fat)}
		}
		return c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("tile grid: %w", err)
	}
	return out, nil
}

// TilePointsByID returns those of the incidents ids that exist, in id
// order, with the columns a tile draws.
func (p *PostGIS) TilePointsByID(ctx context.Context, ids []int64) ([]incident.TilePoint, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := p.reader().Query(ctx, "SELECT i.id, i.lon, i.lat, i.fatalities, i.event_date, i.event_type FROM incidents i WHERE i.id = ANY($1) ORDER BY i.id", ids)
	if err != nil {
		return nil, fmt.Errorf("tile points by id: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanTilePoint)
	if err != nil {
		return nil, fmt.Errorf("tile points by id: %w", err)
	}
	return out, nil
}
