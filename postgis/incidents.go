package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/store"
)

// incidentColumns is the column list every incident query reads, in scan
// order: the field table's (incident.Columns).
var incidentColumns = incident.ColumnList("i.")

func scanIncident(row pgx.Row, inc *incident.Incident) error {
	return row.Scan(incident.ScanTargets(inc)...)
}

// spatialOrder is the SQLite engine's order of a bounded page: the cell key,
// then lon, lat, date, fatalities and id, so both engines page alike.
const spatialOrder = " ORDER BY i.cell, i.lon, i.lat, i.event_date, i.fatalities, i.id"

// spatialRanges is how many cell key ranges a bounded page is read in (as
// the SQLite engine's bboxRanges).
const spatialRanges = 16

// spatialPage is the query of a bounded page in spatial order: one branch
// per cell key range of the bound, each an index range scan of
// incidents_cell already in the page's order, merged (Merge Append), so a
// page reads its offset and limit of rows and stops, as the SQLite engine's
// page does. One GiST scan would find every match in the box and sort them
// all first (80,000 rows for a page of central Baghdad at 1M). The planner
// multiplies the selectivities of the cell range and lon/lat, which are one
// fact, so it expects a few rows and would sort them: run the query after
// sortless (SET LOCAL enable_sort = off), which leaves only the ordered
// index scans. The box needs no GiST test here: the ranges find it and
// lon/lat BETWEEN is exact.
func spatialPage(q *query, b orb.Bound) string {
	parts := geo.SplitBBox(b)
	var ranges []geo.CellRange
	for _, p := range parts {
		ranges = append(ranges, geo.CellRanges(p, spatialRanges/len(parts))...)
	}
	conds := append([]string(nil), q.conds...)
	if q.box >= 0 {
		conds[q.box] = q.boxExact
	}
	where := " WHERE TRUE"
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	branches := make([]string, len(ranges))
	for i, r := range ranges {
		branches[i] = "(SELECT " + incidentColumns + ", i.cell FROM incidents i" + where +
			" AND i.cell BETWEEN " + q.arg(r.Lo) + " AND " + q.arg(r.Hi) + spatialOrder + ")"
	}
	return "SELECT " + incidentColumns + " FROM (" + strings.Join(branches, " UNION ALL ") + ") i" + spatialOrder
}

// sortless makes the rest of tx plan without sorts (see spatialPage).
func sortless(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, "SET LOCAL enable_sort = off"); err != nil {
		return fmt.Errorf("query incidents: %w", err)
	}
	return nil
}

// cursor streams the rows of one query inside one read-only, repeatable-read
// transaction (one snapshot for the count and the rows): pgx reads rows off
// the connection as Next asks, so an export never holds more than a row.
type cursor struct {
	tx      pgx.Tx
	rows    pgx.Rows
	cur     incident.Incident
	dest    []any // scan targets into cur, made once
	matched int64
	err     error
}

func (c *cursor) Next() bool {
	if c.err != nil || !c.rows.Next() {
		return false
	}
	if c.dest == nil {
		c.dest = incident.ScanTargets(&c.cur)
	}
	if err := c.rows.Scan(c.dest...); err != nil {
		c.err = fmt.Errorf("read incident: %w", err)
		return false
	}
	return true
}

func (c *cursor) Incident() *incident.Incident { return &c.cur }
func (c *cursor) Matched() int64               { return c.matched }

func (c *cursor) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.rows.Err()
}

func (c *cursor) Close() error {
	c.rows.Close()
	return c.tx.Rollback(context.Background())
}

// readTx begins a read-only snapshot.
func (p *PostGIS) readTx(ctx context.Context) (pgx.Tx, error) {
	tx, err := p.reader().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	return tx, nil
}

// Incidents starts a query for the incidents f selects, ordered as the
// SQLite engine orders them: by id; spatially when f is bounded (see
// store.Bound) unless f.ByID; by relevance (incident.Relevance) with f.ByRelevance.
func (p *PostGIS) Incidents(ctx context.Context, f incident.Filter, count bool) (incident.Cursor, error) {
	q, err := compile(f)
	if err != nil {
		return nil, err
	}
	tx, err := p.readTx(ctx)
	if err != nil {
		return nil, err
	}
	c := &cursor{tx: tx, matched: -1}
	if count {
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM incidents i"+q.where(), q.args...).Scan(&c.matched); err != nil {
			tx.Rollback(ctx)
			return nil, fmt.Errorf("count incidents: %w", err)
		}
	}
	sql := "SELECT " + incidentColumns + " FROM incidents i" + q.where()
	switch {
	case len(f.Sort) > 0:
		sql += " ORDER BY " + orderBy(f.Sort)
	case q.ts != "" && f.ByRelevance:
		sql += " ORDER BY " + relevance(f.Text, q.ts) + ", i.id"
	case store.Bound(f) != nil && !f.ByID:
		sql = spatialPage(q, *store.Bound(f))
		if err := sortless(ctx, tx); err != nil {
			tx.Rollback(ctx)
			return nil, err
		}
	default:
		sql += " ORDER BY i.id"
	}
	if f.Limit > 0 {
		sql += " LIMIT " + q.arg(int64(f.Limit))
	}
	if f.Offset > 0 {
		sql += " OFFSET " + q.arg(int64(f.Offset))
	}
	if c.rows, err = tx.Query(ctx, sql, q.args...); err != nil {
		tx.Rollback(ctx)
		return nil, fmt.Errorf("query incidents: %w", err)
	}
	return c, nil
}

// Count returns how many incidents f matches (limit and offset ignored).
func (p *PostGIS) Count(ctx context.Context, f incident.Filter) (int64, error) {
	q, err := compile(f)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := p.reader().QueryRow(ctx, "SELECT count(*) FROM incidents i"+q.where(), q.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count incidents: %w", err)
	}
	return n, nil
}

// Incident returns the incident with the feature id, or ErrNotFound.
func (p *PostGIS) Incident(ctx context.Context, id int64) (incident.Incident, error) {
	return incidentIn(ctx, p.reader(), id)
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func incidentIn(ctx context.Context, q queryRower, id int64) (incident.Incident, error) {
	var inc incident.Incident
	err := scanIncident(q.QueryRow(ctx, "SELECT "+incidentColumns+" FROM incidents i WHERE i.id = $1", id), &inc)
	if errors.Is(err, pgx.ErrNoRows) {
		return inc, fmt.Errorf("incident %d: %w", id, incident.ErrNotFound)
	}
	if err != nil {
		return inc, fmt.Errorf("incident %d: %w", id, err)
	}
	return inc, nil
}

// Extent returns the space and time all incidents cover.
func (p *PostGIS) Extent(ctx context.Context) (incident.Extent, error) {
	var e incident.Extent
	var minLon, minLat, maxLon, maxLat *float64
	var first, last *string
	if err := p.reader().QueryRow(ctx, `SELECT count(*), min(lon), min(lat), max(lon), max(lat), min(event_date), max(event_date)
		FROM incidents`).Scan(&e.Count, &minLon, &minLat, &maxLon, &maxLat, &first, &last); err != nil {
		return e, fmt.Errorf("extent: %w", err)
	}
	if e.Count == 0 {
		return incident.Extent{}, nil
	}
	e.BBox.Min[0], e.BBox.Min[1], e.BBox.Max[0], e.BBox.Max[1] = *minLon, *minLat, *maxLon, *maxLat
	e.FirstDate, e.LastDate = *first, *last
	return e, nil
}

// Regions returns the regions q selects, ordered by ISO code, with the
// incidents counted by admin1 and by region grouping (case-insensitive), as
// the SQLite engine counts them.
func (p *PostGIS) Regions(ctx context.Context, rq incident.RegionQuery) ([]incident.RegionStats, error) {
	f := rq.Incidents
	f.BBox, f.Limit, f.Offset = nil, 0, 0
	q, err := compile(f)
	if err != nil {
		return nil, err
	}
	sql := `WITH c AS (SELECT lower(i.admin1) AS admin1, lower(i.region) AS region, count(*) AS n, sum(i.fatalities) AS f
			FROM incidents i` + q.where() + ` GROUP BY 1, 2),
		a AS (SELECT admin1 AS k, sum(n) AS n, sum(f) AS f FROM c GROUP BY admin1),
		g AS (SELECT region AS k, sum(n) AS n, sum(f) AS f FROM c GROUP BY region)
		SELECT r.iso, r.name, r.name_source, r.name_ar, r.region, r.geometry, r.min_lon, r.min_lat, r.max_lon, r.max_lat,
			coalesce(a.n, 0)::bigint, coalesce(a.f, 0)::bigint, coalesce(g.n, 0)::bigint, coalesce(g.f, 0)::bigint
		FROM regions r
		LEFT JOIN a ON a.k = lower(r.name)
		LEFT JOIN g ON g.k = lower(r.region) WHERE TRUE`
	if b := rq.BBox; b != nil {
		sql += fmt.Sprintf(" AND r.max_lon >= %s AND r.min_lon <= %s AND r.max_lat >= %s AND r.min_lat <= %s",
			q.arg(b.Min[0]), q.arg(b.Max[0]), q.arg(b.Min[1]), q.arg(b.Max[1]))
	}
	if rq.ISO != "" {
		sql += " AND lower(r.iso) = lower(" + q.arg(rq.ISO) + ")"
	}
	sql += " ORDER BY r.iso"
	rows, err := p.reader().Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("regions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (incident.RegionStats, error) {
		var s incident.RegionStats
		var geom string
		err := r.Scan(&s.ISO, &s.Name, &s.NameSource, &s.NameAr, &s.Region, &geom,
			&s.BBox.Min[0], &s.BBox.Min[1], &s.BBox.Max[0], &s.BBox.Max[1],
			&s.Incidents, &s.Fatalities, &s.RegionIncidents, &s.RegionFatalities)
		s.Geometry = []byte(geom)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("regions: %w", err)
	}
	return out, nil
}

// Region returns one region by ISO code with its counts, or ErrNotFound.
func (p *PostGIS) Region(ctx context.Context, iso string, f incident.Filter) (incident.RegionStats, error) {
	list, err := p.Regions(ctx, incident.RegionQuery{Incidents: f, ISO: iso})
	if err != nil {
		return incident.RegionStats{}, err
	}
	if len(list) == 0 {
		return incident.RegionStats{}, fmt.Errorf("region %q: %w", iso, incident.ErrNotFound)
	}
	return list[0], nil
}

// orderBy is the ORDER BY of sort keys, then id in the last key's direction,
// as the SQLite engine orders: text by its bytes (COLLATE "C", SQLite's
// BINARY), whatever the database's collation.
func orderBy(keys []incident.SortKey) string {
	var out []string
	desc, byID := false, false
	for _, k := range keys {
		col := "i." + k.Field // a field of the table: checked below
		if f, ok := incident.FieldByName(k.Field); !ok || f.Kind == incident.Point {
			col = "i.id"
		} else if f.Kind == incident.String || f.Kind == incident.Date || f.Kind == incident.DateTime {
			col += ` COLLATE "C"`
		}
		if k.Desc {
			col += " DESC"
		}
		out = append(out, col)
		desc, byID = k.Desc, byID || k.Field == "id"
	}
	if !byID {
		if desc {
			out = append(out, "i.id DESC")
		} else {
			out = append(out, "i.id")
		}
	}
	return strings.Join(out, ", ")
}
