package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"reflect"
	"time"

	"incidentmap/incident"
	"incidentmap/internal/bgcount"
	"incidentmap/internal/cqlsql"
)

// How numberMatched is had (issue 16: every filtered first page ≤ 50 ms at
// ten million incidents, and never a wrong number):
//
//   - from the count cache (per query and data version), when any request of
//     the same filter counted it before;
//   - from daily_stats, the counts per day, event type and sub-event type that
//     triggers keep (migration 14), when the filter says nothing but dates,
//     event types and sub-event types (parameters, equalities or CQL2 over
//     those three): tens of thousands of small rows whatever the table's size;
//   - otherwise by counting the matches. On a table of fewer than
//     deferCountRows incidents, or when the caller needs the number
//     (Filter.MayDeferCount unset: HTML pages, pages that stream), in the
//     page's snapshot as before. With MayDeferCount on a larger table, the
//     count runs in the background on a snapshot of its own and the cursor
//     waits at most countWait for it: a count an index answers quickly is
//     still there, a long one (Battles with three or more killed is 1.7
//     million index entries at ten million rows) is not waited for — the
//     page goes without numberMatched and the count, when it ends, is in the
//     cache for the next request of the same filter.

// deferCountRows is the table size (in ids) from which a count may be left
// to the background: below it every count ends in tens of milliseconds.
const deferCountRows = 250000

// countWait is how long a page waits for a background count before it goes
// without numberMatched.
const countWait = 20 * time.Millisecond

// dailyColumns are the columns of daily_stats by the name of the incident's
// field, for CQL2 filters it can answer.
var dailyColumns = func() map[string]cqlsql.Column {
	out := map[string]cqlsql.Column{}
	for _, name := range []string{"event_date", "event_type", "sub_event_type"} {
		c := cqlColumns[name]
		c.SQL = name
		out[name] = c
	}
	return out
}()

// dailyStatsWhere is the WHERE clause over daily_stats that selects what f
// matches, when f filters by nothing but dates, event types and sub-event
// types (its parameters, equalities or a CQL2 expression naming only those
// fields); ok is false otherwise. Limit, offset and order do not matter.
func dailyStatsWhere(f incident.Filter) (where string, args []any, ok bool) {
	rest := f
	rest.Interval, rest.EventTypes, rest.SubEventTypes, rest.Equals, rest.Expr = incident.Interval{}, nil, nil, nil, nil
	rest.Limit, rest.Offset, rest.ByID, rest.ByRelevance, rest.Sort, rest.MayDeferCount = 0, 0, false, false, nil, false
	if !reflect.DeepEqual(rest, incident.Filter{}) {
		return "", nil, false
	}
	var conds []string
	for _, e := range f.Equals {
		if _, ok := dailyColumns[e.Field]; !ok {
			return "", nil, false
		}
		conds = append(conds, e.Field+" = ?")
		args = append(args, e.Value)
	}
	if d := f.Interval.StartDate(); d != "" {
		conds, args = append(conds, "event_date >= ?"), append(args, d)
	}
	if d := f.Interval.EndDate(); d != "" {
		conds, args = append(conds, "event_date <= ?"), append(args, d)
	}
	for _, l := range []struct {
		col  string
		vals []string
	}{{"event_type", f.EventTypes}, {"sub_event_type", f.SubEventTypes}} {
		if len(l.vals) == 0 {
			continue
		}
		conds = append(conds, l.col+" IN ("+placeholders(len(l.vals))+")")
		for _, v := range l.vals {
			args = append(args, v)
		}
	}
	if f.Expr != nil {
		// A field daily_stats lacks fails the translation's check.
		sql, a, err := translateCQL2(f.Expr, dailyColumns)
		if err != nil {
			return "", nil, false
		}
		conds, args = append(conds, "("+sql+")"), append(args, a...)
	}
	return joinWhere(conds), args, true
}

// countIn counts what f matches inside tx (a read snapshot), through the
// cache of the snapshot's data version, from daily_stats where it answers f.
func (s *SQLite) countIn(ctx context.Context, tx *sql.Tx, f *sqlFilter) (int64, error) {
	q, args := f.countQuery()
	return cachedIn(ctx, tx, &s.counts, countKey(f), func() (int64, error) {
		cq, cargs := q, args
		if where, a, ok := dailyStatsWhere(f.Filter); ok {
			cq, cargs = "SELECT coalesce(sum(n), 0) FROM daily_stats"+where, a
		}
		var n int64
		if err := tx.QueryRowContext(ctx, cq, cargs...).Scan(&n); err != nil {
			return 0, fmt.Errorf("count incidents: %w", err)
		}
		return n, nil
	})
}

// quickCount is f's count when it costs a lookup: cached for tx's data
// version, or read from daily_stats. ok is false when it would have to be
// counted; version is tx's data version either way.
func (s *SQLite) quickCount(ctx context.Context, tx *sql.Tx, f *sqlFilter) (n, version int64, ok bool, err error) {
	if version, err = dataVersionIn(ctx, tx); err != nil {
		return 0, 0, false, err
	}
	if n, ok := s.counts.get(version, countKey(f)); ok {
		return n, version, true, nil
	}
	if _, _, ok := dailyStatsWhere(f.Filter); ok {
		n, err := s.countIn(ctx, tx, f)
		return n, version, err == nil, err
	}
	return 0, version, false, nil
}

// dataVersionIn is the data version of tx's snapshot: the change log's last
// sequence number.
func dataVersionIn(ctx context.Context, tx *sql.Tx) (int64, error) {
	var version int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM change_log").Scan(&version); err != nil {
		return 0, fmt.Errorf("data version: %w", err)
	}
	return version, nil
}

// idSpan is the range of ids in tx's snapshot (max − min + 1; 0 when empty):
// the size of the table as a walk by id sees it.
func idSpan(ctx context.Context, tx *sql.Tx) (minID, span int64, err error) {
	// Two subqueries: SQLite answers a lone min() or max() with one seek,
	// both in one SELECT with a scan of the table.
	if err := tx.QueryRowContext(ctx,
		"SELECT coalesce((SELECT min(id) FROM incidents), 0), coalesce((SELECT max(id) FROM incidents) - (SELECT min(id) FROM incidents) + 1, 0)").
		Scan(&minID, &span); err != nil {
		return 0, 0, fmt.Errorf("id span: %w", err)
	}
	return minID, span, nil
}

// pendingCount is a count a cursor may still get: the background job and
// where its number will be.
type pendingCount struct {
	s        *SQLite
	job      *bgcount.Job
	key      string
	version  int64
	deadline time.Time
}

// wait waits for the job until the deadline and returns the count of the
// cursor's data version if it is known by then.
func (p *pendingCount) wait() (int64, bool) {
	p.job.Wait(p.deadline)
	return p.s.counts.get(p.version, p.key)
}

// probeWindow is how many ids a page of page rows probes by walking before
// it decides between the walk and an index when the count is not known:
// √(idWalkFactor × page × span), the rows at which both paths cost the same
// (see walkIDs).
func probeWindow(page, span int64) int64 {
	return int64(math.Sqrt(idWalkFactor * float64(page) * float64(span)))
}

// probeWalk says, for a page in id order whose count is not known, whether
// walking ids fills it within probeWindow ids (then the walk is the plan:
// it reads at most that many rows); if not, the filter matches fewer than
// page × span / window rows, at most about window too, and an index reads
// them faster than the walk could.
func (s *SQLite) probeWalk(ctx context.Context, tx *sql.Tx, f *sqlFilter) (bool, error) {
	where, args := f.where()
	if where == "" {
		return false, nil
	}
	minID, span, err := idSpan(ctx, tx)
	if err != nil {
		return false, err
	}
	page := int64(f.Limit) + int64(f.Offset)
	window := probeWindow(page, span)
	if window >= span {
		return true, nil
	}
	var n int64
	q := "SELECT count(*) FROM (SELECT 1 FROM incidents i NOT INDEXED" + where + " AND i.id < ? LIMIT ?)"
	if err := tx.QueryRowContext(ctx, q, append(args, minID+window, page)...).Scan(&n); err != nil {
		return false, fmt.Errorf("probe walk: %w", err)
	}
	return n >= page, nil
}

// countKey is the count cache's key of f.
func countKey(f *sqlFilter) string {
	q, args := f.countQuery()
	return fmt.Sprint(q, args)
}
