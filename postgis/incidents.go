package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/internal/cqlsql"
	"incidentmap/internal/vcache"
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
// fact, so it expects a few rows and would sort them: the query runs in a
// transaction without sorts (beginSortless), which leaves only the ordered
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

// cursor streams the rows of one query, inside a read-only, repeatable-read
// transaction when it also counts (one snapshot for the count and the rows)
// or plans a spatial page: pgx reads rows off the connection as Next asks,
// so an export never holds more than a row.
type cursor struct {
	tx      pgx.Tx
	rows    pgx.Rows
	cur     incident.Incident
	dest    []any       // scan targets into cur, made once
	raw     *rawScanner // decodes rows into dest without pgx's Scan; nil: Scan
	matched int64
	pending *pendingCount // the background count Matched waits for, if any
	err     error
}

func (c *cursor) Next() bool {
	if c.err != nil || !c.rows.Next() {
		return false
	}
	if c.dest == nil {
		c.dest = incident.ScanTargets(&c.cur)
		c.raw = newRawScanner(c.rows.FieldDescriptions(), c.dest)
	}
	var err error
	if c.raw != nil {
		err = c.raw.scan(c.rows.FieldDescriptions(), c.rows.RawValues(), c.dest)
	} else {
		err = c.rows.Scan(c.dest...)
	}
	if err != nil {
		c.err = fmt.Errorf("read incident: %w", err)
		return false
	}
	return true
}

func (c *cursor) Incident() *incident.Incident { return &c.cur }

// Matched is the count of the page's filter, -1 when not counted; with a
// background count it waits for it (until countWait after the query
// began): call it after the rows.
func (c *cursor) Matched() int64 {
	if c.pending != nil {
		if n, ok := c.pending.wait(); ok {
			c.matched = n
		}
		c.pending = nil
	}
	return c.matched
}

func (c *cursor) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.rows.Err()
}

func (c *cursor) Close() error {
	c.rows.Close()
	if c.tx == nil {
		return nil
	}
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

// beginSortless begins a read-only snapshot that plans without sorts (see
// spatialPage), in one round trip.
func (p *PostGIS) beginSortless(ctx context.Context) (pgx.Tx, error) {
	tx, err := p.reader().BeginTx(ctx, pgx.TxOptions{
		BeginQuery: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL enable_sort = off"})
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	return tx, nil
}

// countCache keeps the counts of filters for one data version (the highest
// change log seq of the snapshot they were counted in), as the SQLite
// engine keeps its own: a client paging a selection, or many clients asking
// the first page of the whole set, count it once per change of the data.
// It is bounded in bytes (a key is a compiled filter: a long CQL2 filter is
// kilobytes), DefaultCountCacheBytes unless WithCacheBytes says otherwise.
type countCache struct{ c *vcache.Cache[int64] }

// DefaultCountCacheBytes is the count cache's budget: some thousands of
// counts of filters of ordinary length.
const DefaultCountCacheBytes = 1 << 20

// WithCacheBytes sets the bytes the count cache may hold (0: the default,
// negative: none). The engine keeps no other cache.
func WithCacheBytes(counts int64) Option {
	return func(p *PostGIS) {
		if counts != 0 {
			p.counts.c.SetLimit(counts)
		}
	}
}

// CacheStats says what the count cache holds, for the server's metrics.
func (p *PostGIS) CacheStats() map[string]vcache.Stats {
	return map[string]vcache.Stats{"counts": p.counts.c.Stats()}
}

// get is the count of key at version, if kept.
func (c *countCache) get(key string, version int64) (int64, bool) { return c.c.Get(version, key) }

// put keeps the count of key made at version; an older version's counts
// are dropped.
func (c *countCache) put(key string, version, n int64) { c.c.Put(version, key, n, 8) }

// countKey identifies a compiled filter's matches.
func countKey(q *query) string {
	return q.where() + "\x00" + fmt.Sprintf("%#v", q.args)
}

// countIn counts q's matches in one snapshot with that snapshot's data
// version, and keeps the count.
func (p *PostGIS) countIn(ctx context.Context, r queryRower, q *query) (int64, error) {
	var n, version int64
	if err := r.QueryRow(ctx, "SELECT count(*), (SELECT coalesce(max(seq), 0) FROM change_log) FROM incidents i"+q.where(),
		q.args...).Scan(&n, &version); err != nil {
		return 0, fmt.Errorf("count incidents: %w", err)
	}
	p.counts.put(countKey(q), version, n)
	return n, nil
}

// Incidents starts a query for the incidents f selects, ordered as the
// SQLite engine orders them: by id; spatially when f is bounded (see
// cqlsql.Bound) unless f.ByID; by relevance (incident.Relevance) with
// f.ByRelevance. For a server's page (f.MayDeferCount) a count made for the
// data version this server last read (see DataVersion) is taken from the
// count cache; then, as without count, the page is one statement (its own
// snapshot) and no transaction is begun: a page costs one round trip, not
// four.
func (p *PostGIS) Incidents(ctx context.Context, f incident.Filter, count bool) (incident.Cursor, error) {
	t0 := time.Now()
	q, err := compile(f)
	if err != nil {
		return nil, err
	}
	c := &cursor{matched: -1}
	// The filter alone, before the page adds its ranges, limit and offset.
	cq := *q
	cq.args = q.args[:len(q.args):len(q.args)]
	if count && f.MayDeferCount {
		// The server's pages (which may go without a count) read the data
		// version just before (conditionalGet), so p.seen is current there.
		if n, ok := p.counts.get(countKey(&cq), p.seen.Load()); ok {
			c.matched, count = n, false
		} else if deferred, err := p.mayDefer(ctx); err != nil {
			return nil, err
		} else if deferred {
			c.pending, count = p.deferCount(&cq, t0), false
		}
	}
	spatial := cqlsql.Bound(f) != nil && !f.ByID && len(f.Sort) == 0 && !(q.ts != "" && f.ByRelevance)
	var sql string
	switch {
	case len(f.Sort) > 0:
		sql = "SELECT " + incidentColumns + " FROM incidents i" + q.where() + " ORDER BY " + cqlsql.OrderBy(f.Sort, columns, dialect{})
	case q.ts != "" && f.ByRelevance:
		sql = "SELECT " + incidentColumns + " FROM incidents i" + q.where() + " ORDER BY " + relevance(f.Text, q.ts) + ", i.id"
	case spatial:
		sql = spatialPage(q, *cqlsql.Bound(f))
	case len(q.conds) == 0 && f.Offset > 0 && f.Limit > 0:
		// An unfiltered page deep in id order: OFFSET would fetch and
		// project every skipped row from the heap (5,000 row reads for a page
		// at offset 5,000). The page's first id is found by skipping index
		// entries alone (an index-only scan of the primary key), then the
		// page is read from there: the same rows, in one statement and so
		// one snapshot. Past the end the subquery is NULL and the page empty.
		sql = "SELECT " + incidentColumns + " FROM incidents i WHERE i.id >= (SELECT s.id FROM incidents s ORDER BY s.id OFFSET " +
			q.arg(int64(f.Offset)) + " LIMIT 1) ORDER BY i.id LIMIT " + q.arg(int64(f.Limit))
		f.Limit, f.Offset = 0, 0
	default:
		sql = "SELECT " + incidentColumns + " FROM incidents i" + q.where() + " ORDER BY i.id"
	}
	if f.Limit > 0 {
		sql += " LIMIT " + q.arg(int64(f.Limit))
	}
	if f.Offset > 0 {
		sql += " OFFSET " + q.arg(int64(f.Offset))
	}
	if !count && !spatial {
		if c.rows, err = p.reader().Query(ctx, sql, q.args...); err != nil {
			return nil, fmt.Errorf("query incidents: %w", err)
		}
		return c, nil
	}
	// A count and its rows from one snapshot; a spatial page planned without
	// sorts.
	if spatial {
		c.tx, err = p.beginSortless(ctx)
	} else {
		c.tx, err = p.readTx(ctx)
	}
	if err != nil {
		return nil, err
	}
	if count {
		if c.matched, err = p.countIn(ctx, c.tx, &cq); err != nil {
			c.tx.Rollback(ctx)
			return nil, err
		}
	}
	if c.rows, err = c.tx.Query(ctx, sql, q.args...); err != nil {
		c.tx.Rollback(ctx)
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
	return p.countIn(ctx, p.reader(), q)
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
