package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/internal/cqlsql"
)

// sqlFilter is a Filter translated to SQLite: its predicates but the bbox as
// SQL conditions over the incidents columns (alias "i") with ? placeholders.
type sqlFilter struct {
	incident.Filter
	conds []string
	args  []any
	fts   string // the FTS5 query of Text; "" for none
	// ftsProbe tests the text of each candidate row by itself (a lookup of
	// its id in the text index) instead of against the set of every match:
	// see textPlan.
	ftsProbe bool
	bound    *orb.Bound // the box every match lies in (see cqlsql.Bound); nil for none
}

// incidentColumns is the column list every incident query reads, in scan
// order: the field table's (incident.Columns).
var incidentColumns = incident.ColumnList("i.")

func scanIncident(sc interface{ Scan(...any) error }, inc *incident.Incident) error {
	return sc.Scan(incident.ScanTargets(inc)...)
}

// bboxRanges is how many key ranges a bbox query is split into: more ranges
// hug the bbox closer (fewer index entries read outside it), each costs a
// range seek.
const bboxRanges = 16

// bboxCellRanges are the cell key ranges that cover b; a box across the
// antimeridian is covered half by half, sharing the budget.
func bboxCellRanges(b orb.Bound) []geo.CellRange {
	parts := geo.SplitBBox(b)
	var out []geo.CellRange
	for _, p := range parts {
		out = append(out, geo.CellRanges(p, bboxRanges/len(parts))...)
	}
	return out
}

// where builds the WHERE clause of f and its arguments. The bound (a bbox,
// a spatial CQL2 condition) becomes key ranges of the cell index OR-ed
// together, then the exact comparisons.
func (f *sqlFilter) where() (string, []any) {
	conds, args := f.conditions()
	if f.bound != nil {
		var or []string
		var rargs []any
		for _, r := range bboxCellRanges(*f.bound) {
			or = append(or, "i.cell BETWEEN ? AND ?")
			rargs = append(rargs, r.Lo, r.Hi)
		}
		conds = append([]string{"(" + strings.Join(or, " OR ") + ")"}, conds...)
		args = append(rargs, args...)
	}
	return joinWhere(conds), args
}

// joinWhere is " WHERE a AND b …", or "" for no condition.
func joinWhere(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// conditions are f's predicates but the bbox's key ranges: the exact bbox
// test and the compiled predicates.
func (f *sqlFilter) conditions() ([]string, []any) {
	conds, args := f.conds, f.args
	if f.fts != "" {
		match := "i.id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?)"
		if f.ftsProbe {
			match = "EXISTS (SELECT 1 FROM incidents_fts m WHERE m.rowid = i.id AND incidents_fts MATCH ?)"
		}
		conds = append(conds[:len(conds):len(conds)], match)
		args = append(args[:len(args):len(args)], f.fts)
	}
	if b := f.BBox; b != nil && geo.CrossesAntimeridian(*b) {
		return append([]string{"(i.lon >= ? OR i.lon <= ?) AND i.lat BETWEEN ? AND ?"}, conds...),
			append([]any{b.Min[0], b.Max[0], b.Min[1], b.Max[1]}, args...)
	} else if b != nil {
		return append([]string{"i.lon BETWEEN ? AND ? AND i.lat BETWEEN ? AND ?"}, conds...),
			append([]any{b.Min[0], b.Max[0], b.Min[1], b.Max[1]}, args...)
	}
	return conds, args
}

// Cursor walks the incidents of one query inside one read snapshot. Call Next
// until it returns false, then Err, and always Close.
type Cursor struct {
	matched int64         // see Matched
	pending *pendingCount // the background count Matched waits for, if any
	ctx     context.Context
	conn    *sql.Conn
	tx      *sql.Tx
	// rest, when set, is the query of the rows after the current one's
	// (a walk bounded to the first ids, see pagePlan), given how many rows
	// that one gave; ok false when none are needed.
	rest    func(got int) (q string, args []any, ok bool, err error)
	got     int        // rows the current query gave
	limit   int        // the most rows a query gives (the page's limit; 0: no limit)
	rows    *sql.Rows  // the rows through database/sql, or
	batch   *batchRows // the rows in batches (see batchscan.go)
	cur     incident.Incident
	cell    bool  // the rows end with the cell key (spatial order), skipped
	dest    []any // scan targets into cur (and the cell key), made once
	cellKey int64
	err     error
	unpin   func()    // releases the filter's geometries
	track   *tracking // where a page ends, for the next (nil: not kept)
}

// tracking follows the keys a cursor of a page in spatial or id order
// reads, so that Close can remember where the next page starts (see
// spatialpage.go).
type tracking struct {
	s          *SQLite
	version    int64
	key        string // the filter's (positionKey)
	spatial    bool   // spatial order, else id order
	offset     int    // of the cursor's first row
	read       int    // rows read
	prev, last spatialKey
}

// Next moves to the next incident.
func (c *Cursor) Next() bool {
	for {
		if c.next() {
			c.got++
			return true
		}
		if c.err != nil || c.rest == nil || c.Err() != nil {
			return false
		}
		q, args, ok, err := c.rest(c.got)
		c.rest = nil
		if err == nil && ok {
			if err = c.closeRows(); err == nil {
				c.got = 0
				err = c.open(q, args)
			}
		}
		if err != nil {
			c.err = err
			return false
		}
		if !ok {
			return false
		}
	}
}

// open starts the query q of the cursor's rows.
func (c *Cursor) open(q string, args []any) error {
	var err error
	if c.batch, err = openBatch(c.ctx, c.conn, q, args, c.limit); err != nil {
		return fmt.Errorf("query incidents: %w", err)
	}
	if c.batch == nil {
		if c.rows, err = c.tx.QueryContext(c.ctx, q, args...); err != nil {
			return fmt.Errorf("query incidents: %w", err)
		}
	}
	return nil
}

// closeRows closes the current query's rows.
func (c *Cursor) closeRows() error {
	var err error
	if c.batch != nil {
		err = c.batch.close()
	} else if c.rows != nil {
		err = c.rows.Close()
	}
	c.batch, c.rows = nil, nil
	return err
}

// next moves to the next row of the current query.
func (c *Cursor) next() bool {
	if c.err != nil {
		return false
	}
	if c.dest == nil {
		c.dest = incident.ScanTargets(&c.cur)
		if c.cell {
			c.dest = append(c.dest, &c.cellKey)
		}
	}
	if b := c.batch; b != nil {
		if b.left == 0 {
			ok, err := b.fill()
			if err != nil {
				c.err = fmt.Errorf("read incidents: %w", err)
			}
			if !ok {
				return false
			}
		}
		if err := b.scan(c.dest); err != nil {
			c.err = fmt.Errorf("read incident: %w", err)
			return false
		}
	} else {
		if !c.rows.Next() {
			return false
		}
		if err := c.rows.Scan(c.dest...); err != nil {
			c.err = fmt.Errorf("read incident: %w", err)
			return false
		}
	}
	if t := c.track; t != nil {
		t.prev = t.last
		if t.spatial {
			t.last = keyOf(&c.cur, c.cellKey)
		} else {
			t.last = spatialKey{id: c.cur.ID}
		}
		t.read++
	}
	return true
}

// Incident is the current row; it is overwritten by the next call to Next.
func (c *Cursor) Incident() *incident.Incident { return &c.cur }

// Matched is the number of incidents the filter matches, ignoring limit and
// offset, for the same data version as the rows; -1 when it was not counted.
// With Filter.MayDeferCount it may wait (up to countWait after the query
// began) for a count running in the background: call it after the rows.
func (c *Cursor) Matched() int64 {
	if c.pending != nil {
		if n, ok := c.pending.wait(); ok {
			c.matched = n
		}
		c.pending = nil
	}
	return c.matched
}

// Err is the first error met while iterating.
func (c *Cursor) Err() error {
	if c.err != nil {
		return c.err
	}
	if c.rows == nil {
		return nil
	}
	return c.rows.Err()
}

// Close releases the rows and the snapshot.
func (c *Cursor) Close() error {
	if t := c.track; t != nil && c.err == nil && t.read > 0 {
		// The rows after the last one read start at offset+read; after the
		// one before it, at offset+read-1 (a server reads one row past
		// its page to know whether another follows).
		found := []position{{offset: t.offset + t.read, key: t.last}}
		if t.read > 1 {
			found = append(found, position{offset: t.offset + t.read - 1, key: t.prev})
		}
		t.s.remember(t.version, t.key, found...)
	}
	err := c.closeRows()
	err = errors.Join(err, c.tx.Rollback())
	if cerr := c.conn.Close(); !errors.Is(cerr, sql.ErrConnDone) {
		// (Done: database/sql discarded it when the context ended.)
		err = errors.Join(err, cerr)
	}
	c.unpin()
	return err
}

// spatialOrder orders the rows of rangeUnion(incidentColumns + ", i.cell")
// as the cell index stores them — key, lon, lat, date, fatalities, id — so
// SQLite merges the ranges' index scans in order and a page stops early,
// without sorting the matches.
var spatialOrder = fmt.Sprintf(" ORDER BY %d, %d, %d, %d, %d, %d", len(incident.Columns(""))+1,
	incident.ColumnIndex("lon")+1, incident.ColumnIndex("lat")+1, incident.ColumnIndex("event_date")+1,
	incident.ColumnIndex("fatalities")+1, incident.ColumnIndex("id")+1)

// rangeUnion is one SELECT of cols per key range of f's bbox, each with all
// of f's conditions, joined by UNION ALL: every arm is a plain range scan of
// the cell index (counting needs no table row), where OR-ed ranges would
// gather row ids in a set first. The index is named: the merge in key order
// (spatialOrder) depends on it, whatever the statistics say of a date or
// type filter.
func (f *sqlFilter) rangeUnion(cols string) (string, []any) { return f.spatialArms(cols, nil) }

// countQuery counts what f matches.
func (f *sqlFilter) countQuery() (string, []any) {
	if f.bound != nil && f.fts != "" {
		// Text in a box: each match's row tested for the box, led by the
		// text index (its matches in id order, a row seek each); every
		// range's arm built its own set of every text match, over three
		// minutes for q=drone in a country at ten million incidents.
		rest := *f
		rest.fts = ""
		where, args := rest.where()
		if where == "" {
			where = " WHERE "
		} else {
			where += " AND "
		}
		return "SELECT count(*) FROM incidents_fts m CROSS JOIN incidents i ON i.id = m.rowid" + where +
			"incidents_fts MATCH ?", append(args, f.fts)
	}
	if f.bound != nil {
		q, args := f.rangeUnion("1")
		return "SELECT count(*) FROM (" + q + ")", args
	}
	where, args := f.where()
	return "SELECT count(*) FROM incidents i" + where, args
}

// Incidents starts a query for the incidents f selects. With count, Matched
// holds the total matching count from the same snapshot. The order is by id;
// with a bbox or a CQL2 spatial condition that bounds the points (and
// neither ByID nor ByRelevance) it is spatial, the cell
// index's order (see spatialOrder), so that a page of a large bbox costs
// what the page holds, not what the bbox holds. Either order is total, so
// offsets page consistently.
func (s *SQLite) Incidents(ctx context.Context, filter incident.Filter, count bool) (incident.Cursor, error) {
	t0 := time.Now()
	// A connection of its own, not just a transaction: the rows are read
	// through its SQLite handle (batchscan.go).
	conn, err := s.ro.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("begin read: %w", err)
	}
	c := &Cursor{matched: -1, ctx: ctx, conn: conn, tx: tx, limit: filter.Limit, unpin: s.geoms.pin(filter.Expr)}
	fail := func(err error) (incident.Cursor, error) {
		c.unpin()
		tx.Rollback()
		conn.Close()
		return nil, err
	}
	f, err := compileIn(ctx, tx, filter)
	if err != nil {
		return fail(err)
	}
	if count {
		if c.matched, c.pending, err = s.pageCount(ctx, tx, &f, t0); err != nil {
			return fail(err)
		}
	}
	plan, err := s.walkIDs(ctx, tx, &f, c.matched, c.pending != nil)
	if err != nil {
		return fail(err)
	}
	if err := s.textPlan(ctx, tx, &f); err != nil {
		return fail(err)
	}
	var start *position
	if f.Limit > 0 && (f.spatial() || f.idOrder()) {
		// Where an earlier page of the same filter in this data version
		// ended (see spatialpage.go).
		version, err := dataVersionIn(ctx, tx)
		if err != nil {
			return fail(err)
		}
		t := &tracking{s: s, version: version, key: positionKey(&f, f.spatial()), spatial: f.spatial(), offset: f.Offset}
		if p, ok := s.startAt(version, t.key, f.Offset); ok {
			start = &p
		}
		c.track = t
	}
	q, args, cell := f.pageQuery(plan, start)
	c.cell = cell
	if plan.below > 0 {
		c.rest = func(got int) (string, []any, bool, error) {
			return s.restQuery(ctx, tx, &f, plan.below, got)
		}
	}
	if err := c.open(q, args); err != nil {
		return fail(err)
	}
	return c, nil
}

// textProbeFactor is how many times more a lookup of one id in the text
// index costs than adding one match to the set of every match (about 70 µs
// against 0.7 µs for q=drone at ten million incidents): see textPlan.
const textProbeFactor = 100

// textPlan decides how a page in spatial order tests its text: against the
// set of every match (built once, before the first row: its cost is the
// number of matches n), or each candidate row by a lookup in the text index
// (ftsProbe: its cost is the rows the range scans read to fill the page,
// about page × span / n). The set wins while n² < textProbeFactor × page ×
// span; the matches are counted only up to that (FTS5 hands them out in
// order, so counting a few costs a few).
func (s *SQLite) textPlan(ctx context.Context, tx *sql.Tx, f *sqlFilter) error {
	if f.fts == "" || !f.spatial() || f.Limit <= 0 {
		return nil
	}
	if p := s.textProbe; p != nil {
		f.ftsProbe = *p
		return nil
	}
	_, span, err := idSpan(ctx, tx)
	if err != nil {
		return err
	}
	enough := int64(math.Sqrt(textProbeFactor * float64(f.Limit+f.Offset) * float64(span)))
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM incidents_fts WHERE incidents_fts MATCH ? LIMIT ?)",
		f.fts, enough).Scan(&n); err != nil {
		return fmt.Errorf("text matches: %w", err)
	}
	f.ftsProbe = n >= enough
	return nil
}

// pagePlan is how a page in id order is read (see walkIDs).
type pagePlan struct {
	// walk: walk the table by id (or a sort index in its order), testing
	// each row, where SQLite would read every match through an index and
	// sort them.
	walk bool
	// below, with walk in id order: the walk reads only the ids below it
	// (the window a walk that fills the page needs, see boundedWalk); the
	// page's rows past them, if the walk did not fill it, come from the
	// index path (restQuery). 0: the walk is not bounded.
	below int64
}

// boundedWalk is the plan of a page in id order that walks the first ids,
// up to probeWindow of them: when the filter's matches are many (spread
// over the ids, the walk fills the page there) that is the whole page, read
// at the cost of page / selectivity rows; when they are few (or sit in the
// last ids, as a year of data loaded in date order does) the walk ends at
// the window's end and the index path reads the rest of the page, the
// matches then being fewer than about the window. The walk and the test of
// whether it fills the page are one read (a probe before the walk read the
// same rows twice).
func (s *SQLite) boundedWalk(ctx context.Context, tx *sql.Tx, f *sqlFilter) (pagePlan, error) {
	if where, _ := f.where(); where == "" {
		return pagePlan{}, nil
	}
	minID, span, err := idSpan(ctx, tx)
	if err != nil {
		return pagePlan{}, err
	}
	window := probeWindow(int64(f.Limit)+int64(f.Offset), span)
	if window >= span {
		return pagePlan{walk: true}, nil
	}
	return pagePlan{walk: true, below: minID + window}, nil
}

// restQuery is the query of a page's rows at ids from below on, after a
// walk of the ids below it gave got rows (see pagePlan), through the
// filter's indexes; ok is false when the walk filled the page.
func (s *SQLite) restQuery(ctx context.Context, tx *sql.Tx, f *sqlFilter, below int64, got int) (q string, args []any, ok bool, err error) {
	if got >= f.Limit {
		return "", nil, false, nil
	}
	where, args := f.where()
	offset := 0
	if got == 0 && f.Offset > 0 {
		// The walk skipped the offset's first rows, how many it found is
		// not known: they are counted (at most the offset).
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM incidents i NOT INDEXED"+where+" AND i.id < ? LIMIT ?)",
			append(args[:len(args):len(args)], below, f.Offset)...).Scan(&n); err != nil {
			return "", nil, false, fmt.Errorf("rows before the page: %w", err)
		}
		offset = f.Offset - n
	}
	// +i.id: the bound is not a rowid range for the planner, which would
	// walk again from it.
	q = "SELECT " + incidentColumns + " FROM incidents i WHERE i.id IN (SELECT i.id FROM incidents i" +
		where + " AND +i.id >= ? ORDER BY i.id LIMIT ? OFFSET ?) ORDER BY i.id"
	return q, append(args, below, f.Limit-got, offset), true, nil
}

// pageCount is the number of matches of a page's filter, or -1 and the
// background count to wait for when it may be left (see counting.go).
func (s *SQLite) pageCount(ctx context.Context, tx *sql.Tx, f *sqlFilter, t0 time.Time) (int64, *pendingCount, error) {
	n, version, ok, err := s.quickCount(ctx, tx, f)
	if err != nil || ok {
		return n, nil, err
	}
	if f.MayDeferCount {
		_, span, err := idSpan(ctx, tx)
		if err != nil {
			return 0, nil, err
		}
		if span >= s.deferCountRows() {
			key := countKey(f)
			filter := f.Filter
			job := s.bg.Start(key, func(ctx context.Context) { _, _ = s.Count(ctx, filter) })
			return -1, &pendingCount{s: s, job: job, key: key, version: version,
				deadline: t0.Add(countWait)}, nil
		}
	}
	n, err = s.countIn(ctx, tx, f)
	return n, nil, err
}

// idWalkFactor weighs reading a row of the table in id order against
// reading one through an index (a seek into the table per row) and sorting
// it; see walkIDs.
const idWalkFactor = 4

// walkIDs says whether a page in id order should walk the table by id and
// test each row, stopping at the page's last match, instead of letting
// SQLite read every match through an index and sort them. SQLite prices the
// walk as reading the whole table: it does not expect a LIMIT to stop it
// early, so with true statistics it still sorts all 166,667 Battles rows of a
// million for a page of 100 (1.3 s against a few ms, issue 16). The count of
// the matches, known before the page is read, decides instead: the walk reads
// about page × span / matched rows (span: the range of ids, the matches
// spread over it), an index path reads matched rows; the walk wins when
// matched² ≥ idWalkFactor × page × span, so neither path reads more than
// ~2·√(idWalkFactor × page × span) rows. In id order the walk is bounded to
// that window (boundedWalk) and the index path reads what it did not fill,
// so it is taken from matched² ≥ page × span / idWalkFactor on, and without
// a count (left to the background). Sort index walks are not bounded: a
// short walk decides for them (see probeWalk) when the count is not known.
// Without a limit (exports: every match is read anyway), or in spatial or
// relevance order, SQLite decides.
//
// A sortby on one key that has an index of its own in its order
// (sortIndexes) walks that index the same way: the deadliest Battles first
// read the fatalities index from the top, testing each row, instead of
// sorting every Battles row.
func (s *SQLite) walkIDs(ctx context.Context, tx *sql.Tx, f *sqlFilter, matched int64, probe bool) (pagePlan, error) {
	if f.Limit <= 0 || (len(f.Text) > 0 && (f.ByRelevance || len(f.Sort) == 0)) {
		return pagePlan{}, nil // relevance ranks every match; in id order the text index leads (pageQuery)
	}
	if len(f.conds) == 0 && f.bound == nil && len(f.Sort) == 0 {
		return pagePlan{}, nil // nothing to test: the page is the table's next rows by id either way
	}
	switch {
	case len(f.Sort) == 1 && sortIndexes[f.Sort[0].Field] != "":
	case len(f.Sort) > 0, f.bound != nil && !f.ByID:
		return pagePlan{}, nil
	}
	if probe {
		if len(f.Sort) == 0 {
			return s.boundedWalk(ctx, tx, f)
		}
		walk, err := s.probeWalk(ctx, tx, f)
		return pagePlan{walk: walk}, err
	}
	if matched <= 0 {
		return pagePlan{}, nil
	}
	_, span, err := idSpan(ctx, tx)
	if err != nil {
		return pagePlan{}, err
	}
	page := float64(f.Limit) + float64(f.Offset)
	m2 := float64(matched) * float64(matched)
	if len(f.Sort) == 0 && m2*idWalkFactor >= page*float64(span) {
		// Matches spread over the ids fill the page within the bounded
		// walk's window (page × span / matched ≤ window): it reads no more
		// than the index path would if an index held every condition, and
		// far less when none does (a sub-event type in a year: the date
		// index's year of entries, a million at ten million incidents, for
		// a page at offset 500). Data loaded in date order keeps a year's
		// rows together, far from the first ids: the window bounds the
		// walk there, and the index path reads the rest.
		return s.boundedWalk(ctx, tx, f)
	}
	return pagePlan{walk: len(f.Sort) > 0 && m2 >= idWalkFactor*page*float64(span)}, nil
}

// sortIndexes are the indexes that hold one sort key's order, so that ORDER
// BY key, id in either direction reads them in order; walkIDs walks them when
// the matches are many. fatalities and updated_at have the row id right after
// the key (migration 15): nothing is sorted. The date index (the stats index
// of migration 18, which begins with the date) holds other columns after
// the date, so SQLite sorts each day's rows by id as it goes, a few hundred
// at a time, never every match.
var sortIndexes = map[string]string{
	"fatalities": "incidents_fatalities",
	"updated_at": "incidents_updated",
	"event_date": "incidents_stats",
}

// spatial says whether f's rows come in spatial order (see Incidents).
func (f *sqlFilter) spatial() bool {
	return f.bound != nil && !f.ByID && len(f.Sort) == 0 && !(len(f.Text) > 0 && f.ByRelevance)
}

// pageQuery is the query Incidents runs for f, its arguments, and whether its
// rows end with the cell key (spatial order). With walk, a page in id order
// walks the table by id (see walkIDs); a page in spatial order starts after
// start's key when start is not nil (see spatialpage.go).
func (f *sqlFilter) pageQuery(plan pagePlan, start *position) (q string, args []any, cell bool) {
	walk := plan.walk
	if start != nil && f.idOrder() {
		// The rows after the id where an earlier page ended, the offset
		// counted from there: a range of the table by id (idOrder: there
		// is nothing else to test).
		return "SELECT " + incidentColumns + " FROM incidents i WHERE i.id > ? ORDER BY i.id LIMIT ? OFFSET ?",
			[]any{start.key.id, f.Limit, f.Offset - start.offset}, false
	}
	switch {
	case len(f.Text) > 0 && f.ByRelevance:
		// The match is joined once (it also does the text filtering); the
		// score is incident.Relevance's, the same as every engine's.
		rest := *f
		rest.fts = ""
		w, a := rest.where()
		score, sa := relevance(f.Text)
		q = "SELECT " + incidentColumns + ` FROM incidents i
			JOIN (SELECT rowid AS fid FROM incidents_fts WHERE incidents_fts MATCH ?) m ON m.fid = i.id` +
			w + " ORDER BY " + score + ", i.id"
		args = append(append([]any{f.fts}, a...), sa...)
	case len(f.Sort) > 0:
		var where string
		where, args = f.where()
		from := " FROM incidents i"
		if walk {
			from += " INDEXED BY " + sortIndexes[f.Sort[0].Field]
		}
		q = "SELECT " + incidentColumns + from + where + " ORDER BY " + cqlsql.OrderBy(f.Sort, cqlColumns, dialect{})
	case f.spatial():
		if start != nil {
			q, args = f.spatialPageQuery(&start.key, f.Offset-start.offset)
		} else {
			q, args = f.spatialPageQuery(nil, f.Offset)
		}
		return q, args, true
	case len(f.Text) > 0:
		// In id order the text index leads: FTS5 hands its matches out by
		// rowid, so the page stops after its last row, where testing each
		// row against the set of every match (IN) made SQLite collect the
		// whole set first (70,000 ids for q=drone at a million, 0.3 s).
		rest := *f
		rest.fts = ""
		w, a := rest.where()
		if w == "" {
			w = " WHERE "
		} else {
			w += " AND "
		}
		q = "SELECT " + incidentColumns + " FROM incidents_fts m CROSS JOIN incidents i ON i.id = m.rowid" +
			w + "incidents_fts MATCH ? ORDER BY m.rowid"
		args = append(a, f.fts)
	default:
		var where string
		where, args = f.where()
		from := " FROM incidents i"
		if walk {
			// No index but the rowid's (a full-text match still looks rows
			// up by id).
			from += " NOT INDEXED"
			if plan.below > 0 {
				where, args = where+" AND i.id < ?", append(args, plan.below)
			}
		}
		if !walk && where != "" && f.Limit > 0 {
			// Through an index, the page's ids are found and sorted first, from
			// the index alone when it holds the filtered columns, and only the
			// page's rows are read: sorting 17,000 matches of a region and
			// year read 17,000 table rows for 100.
			q = "SELECT " + incidentColumns + " FROM incidents i WHERE i.id IN (SELECT i.id FROM incidents i" +
				where + " ORDER BY i.id LIMIT ? OFFSET ?) ORDER BY i.id"
			return q, append(args, f.Limit, f.Offset), false
		}
		q = "SELECT " + incidentColumns + from + where + " ORDER BY i.id"
	}
	if f.Limit > 0 || f.Offset > 0 {
		limit := int64(f.Limit)
		if limit <= 0 {
			limit = -1
		}
		q += " LIMIT ? OFFSET ?"
		args = append(args, limit, f.Offset)
	}
	return q, args, cell
}

// QueryPlan is SQLite's EXPLAIN QUERY PLAN of the page query and of the count
// query Incidents runs for f, one line per plan step, indented by depth: the
// test that guards against plans that sort a large result for a small page
// reads it, and so can anyone asking why a filter is slow.
func (s *SQLite) QueryPlan(ctx context.Context, filter incident.Filter) (page, count []string, err error) {
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	defer s.geoms.pin(filter.Expr)()
	f, err := compileIn(ctx, tx, filter)
	if err != nil {
		return nil, nil, err
	}
	// With MayDeferCount the page is planned as when its count is left to
	// the background (whatever the table's size): without the number.
	matched := int64(-1)
	if !filter.MayDeferCount {
		if matched, err = s.countIn(ctx, tx, &f); err != nil {
			return nil, nil, err
		}
	}
	plan, err := s.walkIDs(ctx, tx, &f, matched, filter.MayDeferCount)
	if err != nil {
		return nil, nil, err
	}
	if err := s.textPlan(ctx, tx, &f); err != nil {
		return nil, nil, err
	}
	q, args, _ := f.pageQuery(plan, nil)
	if page, err = explain(ctx, tx, q, args); err != nil {
		return nil, nil, err
	}
	if plan.below > 0 {
		// A bounded walk: the rest of the page is read through the index
		// path only when the walk does not fill it, which its rows say.
		got, err := countRows(ctx, tx, q, args)
		if err != nil {
			return nil, nil, err
		}
		q, args, ok, err := s.restQuery(ctx, tx, &f, plan.below, got)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			rest, err := explain(ctx, tx, q, args)
			if err != nil {
				return nil, nil, err
			}
			page = append(append(page, "THEN, FOR THE REST OF THE PAGE:"), rest...)
		}
	}
	q, args = f.countQuery()
	if count, err = explain(ctx, tx, q, args); err != nil {
		return nil, nil, err
	}
	return page, count, nil
}

// countRows is how many rows q gives.
func countRows(ctx context.Context, tx *sql.Tx, q string, args []any) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM ("+q+")", args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows: %w", err)
	}
	return n, nil
}

// explain runs EXPLAIN QUERY PLAN of q.
func explain(ctx context.Context, tx *sql.Tx, q string, args []any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	depth := map[int]int{}
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, fmt.Errorf("explain: %w", err)
		}
		depth[id] = depth[parent] + 1
		out = append(out, strings.Repeat("  ", depth[id]-1)+detail)
	}
	return out, rows.Err()
}

// Count returns how many incidents f matches (limit and offset ignored).
func (s *SQLite) Count(ctx context.Context, filter incident.Filter) (int64, error) {
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	defer s.geoms.pin(filter.Expr)()
	f, err := compileIn(ctx, tx, filter)
	if err != nil {
		return 0, err
	}
	return s.countIn(ctx, tx, &f)
}

// Incident returns the incident with the feature id, or ErrNotFound.
func (s *SQLite) Incident(ctx context.Context, id int64) (incident.Incident, error) {
	var inc incident.Incident
	row := s.ro.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents i WHERE i.id = ?", id)
	if err := scanIncident(row, &inc); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return inc, fmt.Errorf("incident %d: %w", id, ErrNotFound)
		}
		return inc, fmt.Errorf("incident %d: %w", id, err)
	}
	return inc, nil
}

// UpsertResult counts what an upsert did.
type UpsertResult struct {
	Inserted  int
	Updated   int
	Unchanged int
}

// Upsert validates and writes incidents in one transaction, keyed by
// event_id, as an import without source timestamps: every row is written or
// none is. It sets the ID of each incident to its row's.
func (s *SQLite) Upsert(ctx context.Context, incs []incident.Incident) (UpsertResult, error) {
	counts, err := s.Import(ctx, false, func(iw incident.ImportWriter) error {
		w := iw.(*ImportWriter)
		for i := range incs {
			if err := w.Put(&incs[i], 0); err != nil {
				return fmt.Errorf("incident %d (%s): %w", i+1, incs[i].EventID, err)
			}
		}
		if err := w.flush(); err != nil {
			return err
		}
		for i := range incs {
			if err := w.tx.QueryRowContext(ctx, "SELECT id FROM incidents WHERE event_id = ?",
				incs[i].EventID).Scan(&incs[i].ID); err != nil {
				return fmt.Errorf("incident %d (%s): %w", i+1, incs[i].EventID, err)
			}
		}
		return nil
	})
	// A stored row with a source timestamp is newer than one without.
	return UpsertResult{Inserted: counts.Inserted, Updated: counts.Updated,
		Unchanged: counts.Unchanged + counts.Older}, err
}

// WriteTx runs fn in one write transaction, committed when fn returns nil and
// rolled back otherwise.
func (s *SQLite) WriteTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
