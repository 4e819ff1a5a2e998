package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"incidentmap/incident"
)

// Aggregate counts the incidents f selects (its limit and offset ignored) and
// sums their fatalities per group of keys, all from one read snapshot.
//
// Groups are ordered by their keys in the order given: a time key ascending,
// any other key by its rank (the value with most incidents over the whole
// selection first, ties by value), so that a stacked chart's series keep one
// order across its bars. limit > 0 keeps only the top limit combinations of
// the non-time keys by their total count, with every time bucket of each;
// with only time keys it does not apply.
//
// SQLite groups by the stored columns in the order of an index that covers
// them where one does (event_date, event_type, sub_event_type for the
// timeline; admin1, region, event_date for the regions), so the groups stream
// out of the index without sorting a million rows; the buckets (weeks,
// months) and the groups asked for are then added up here from those finer
// groups. Results are cached per query and data version.
func (s *SQLite) Aggregate(ctx context.Context, f incident.Filter, keys []incident.GroupKey, limit int) (incident.Aggregation, error) {
	if len(keys) == 0 {
		return incident.Aggregation{}, fmt.Errorf("aggregate: no group key")
	}
	f.Limit, f.Offset, f.ByID, f.ByRelevance = 0, 0, false, false
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		return incident.Aggregation{}, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	var query string
	var args []any
	cols := incident.GroupColumns(keys)
	if q, a, ok := dailyStatsQuery(f, keys); ok {
		// Only dates and types: the daily counts answer it (migration 14).
		query, args, cols = q, a, keyColumns(keys)
	} else {
		sf, err := compileIn(ctx, tx, f)
		if err != nil {
			return incident.Aggregation{}, err
		}
		defer s.geoms.pin(f.Expr)()
		path, err := aggregatePathOf(ctx, tx, &sf, keys)
		if err != nil {
			return incident.Aggregation{}, err
		}
		query, args = aggregateQuery(&sf, keys, path)
	}
	// The grouped rows are cached by their query, so the timeline's day,
	// week, month and year (each with or without event_type) and the counts
	// per type, all one query (see groupColumns), cost one scan between them.
	raw, err := cachedIn(ctx, tx, &s.aggregates, fmt.Sprint(query, args), func() ([]incident.RawGroup, error) {
		return aggregateRows(ctx, tx, query, args, len(cols))
	})
	if err != nil {
		return incident.Aggregation{}, err
	}
	// The groups asked for are kept too, so asking again costs a lookup.
	// Both caches are of the snapshot's data version.
	rolledKey := fmt.Sprint(query, args, keys)
	all, err := cachedIn(ctx, tx, &s.rolled, rolledKey, func() (incident.Aggregation, error) {
		return incident.RollUp(raw, cols, keys), nil
	})
	if err != nil {
		return incident.Aggregation{}, err
	}
	return all.Top(limit), nil
}

// aggregatePath is how an aggregation reads the incidents it groups.
type aggregatePath int

const (
	// viaPlanner leaves the choice of index to SQLite.
	viaPlanner aggregatePath = iota
	// viaRanges scans the cell index's key ranges of a box, reading each
	// match's row.
	viaRanges
	// viaStats reads the incidents_stats index alone (migration 16).
	viaStats
)

// aggregateLookupRows is how many matches of a box an aggregation reads
// one row at a time through the cell index rather than reading the whole
// stats index: a row in cell order (a seek into the table each) costs some
// microseconds, the index 0.15 s of CPU at a million incidents.
const aggregateLookupRows = 20000

// aggregateTextRows is the same for the matches of a text search: they come
// in row id order, the table's, so a row costs less (93,823 rows of a word
// took 0.17 s of CPU at a million, the stats index with the word's ids 0.55 s).
const aggregateTextRows = 250000

// statsColumns are the columns of incidents_stats (statsIndexSQL).
var statsColumns = []string{"event_date", "event_type", "sub_event_type", "admin1", "region", "actor1", "actor2",
	"fatalities", "cell", "lon", "lat"}

// statsCovered reports whether the stats index holds every column f
// compares (the text search compares the row id, which every index holds).
// A CQL2 filter may compare any column, so it is left to SQLite.
func (f *sqlFilter) statsCovered() bool {
	if f.Expr != nil || f.UpdatedSince != "" || f.IDs != nil {
		return false
	}
	for _, e := range f.Equals {
		if !slices.Contains(statsColumns, e.Field) {
			return false
		}
	}
	return true
}

// aggregatePathOf chooses how an aggregation of f for keys reads. A text
// search of at most aggregateTextRows matches reads their rows (SQLite's
// plan); a box of at most aggregateLookupRows incidents reads its rows
// through the cell index — both counted only up to that bound, in the text
// or the cell index. Otherwise SQLite's plan stands when it reads indexes
// alone, and the stats index is read when the plan would read the table (a
// row for each match of an actor or region, or each entry of an index in
// group order) and the stats index holds all f compares.
func aggregatePathOf(ctx context.Context, tx *sql.Tx, f *sqlFilter, keys []incident.GroupKey) (aggregatePath, error) {
	upTo := func(q string, args ...any) (int64, error) {
		var n int64
		err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM ("+q+") LIMIT ?)", args...).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("aggregate: count matches: %w", err)
		}
		return n, nil
	}
	if f.fts != "" {
		n, err := upTo("SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?", f.fts, aggregateTextRows+1)
		if err != nil || n <= aggregateTextRows {
			return viaPlanner, err
		}
	}
	if f.bound != nil {
		box, err := compile(incident.Filter{BBox: f.Filter.BBox})
		if err != nil {
			return viaRanges, err
		}
		q, a := box.rangeUnion("1")
		n, err := upTo(q, append(a, aggregateLookupRows+1)...)
		if err != nil || n <= aggregateLookupRows || !f.statsCovered() {
			return viaRanges, err
		}
		return viaStats, nil
	}
	if !f.statsCovered() {
		return viaPlanner, nil
	}
	q, args := aggregateQuery(f, keys, viaPlanner)
	plan, err := explain(ctx, tx, q, args)
	if err != nil {
		return viaPlanner, fmt.Errorf("aggregate: %w", err)
	}
	for _, step := range plan {
		step = strings.TrimSpace(step)
		if (strings.HasPrefix(step, "SCAN i") || strings.HasPrefix(step, "SEARCH i")) && !strings.Contains(step, "COVERING INDEX") {
			return viaStats, nil // the plan reads table rows
		}
	}
	return viaPlanner, nil
}

// aggregateQuery is the SQL of an aggregation read by path: the grouped
// columns (see groupColumns), then count and fatalities.
func aggregateQuery(f *sqlFilter, keys []incident.GroupKey, path aggregatePath) (string, []any) {
	cols := incident.GroupColumns(keys)
	var sel []string
	for i, c := range cols {
		sel = append(sel, fmt.Sprintf("i.%s AS g%d", c, i))
	}
	gs := make([]string, len(cols))
	for i := range cols {
		gs[i] = fmt.Sprintf("g%d", i)
	}
	if path == viaRanges {
		// One range scan of the cell index per key range, as for counts.
		inner, args := f.rangeUnion(strings.Join(sel, ", ") + ", i.fatalities AS fat")
		return "SELECT " + strings.Join(gs, ", ") + ", count(*), coalesce(sum(fat), 0) FROM (" + inner +
			") GROUP BY " + strings.Join(gs, ", "), args
	}
	from := " FROM incidents i"
	if path == viaStats {
		// Named: the statistics price a filter on actors or regions as a few
		// rows read through their own index, and a scan of another index in
		// group order with a table row for each entry can look cheaper still.
		from += " INDEXED BY incidents_stats"
	}
	where, args := f.where()
	return "SELECT " + strings.Join(sel, ", ") + ", count(*), coalesce(sum(i.fatalities), 0)" + from +
		where + " GROUP BY " + strings.Join(gs, ", "), args
}

// aggregateRows runs an aggregation query of ncols grouped columns.
func aggregateRows(ctx context.Context, tx *sql.Tx, query string, args []any, ncols int) ([]incident.RawGroup, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	defer rows.Close()
	var out []incident.RawGroup
	dest := make([]any, ncols+2)
	for rows.Next() {
		g := incident.RawGroup{Vals: make([]string, ncols)}
		for i := range g.Vals {
			dest[i] = &g.Vals[i]
		}
		dest[ncols], dest[ncols+1] = &g.N, &g.Fat
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("aggregate: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	return out, nil
}

// dailyKeys are the keys the daily counts (migration 14) can group by.
var dailyKeys = []incident.GroupKey{incident.GroupDay, incident.GroupWeek, incident.GroupMonth, incident.GroupYear, incident.GroupEventType, incident.GroupSubEventType}

// keyColumns names the columns of a dailyStatsQuery's rows: the keys.
func keyColumns(keys []incident.GroupKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}

// dailyStatsQuery is the aggregation of keys over daily_stats, the counts
// and fatalities per day, event type and sub-event type that triggers keep
// (migration 14), when f filters by nothing else than dates and types and
// the keys are dates and types: at a million incidents it reads some
// 70,000 rows instead of a million index entries. Its rows hold the keys'
// values in order, time keys already bucketed.
func dailyStatsQuery(f incident.Filter, keys []incident.GroupKey) (string, []any, bool) {
	for _, k := range keys {
		if !slices.Contains(dailyKeys, k) {
			return "", nil, false
		}
	}
	where, args, ok := dailyStatsWhere(f)
	if !ok {
		return "", nil, false
	}
	var sel, group []string
	for i, k := range keys {
		expr := string(k)
		switch k {
		case incident.GroupDay:
			expr = "event_date"
		case incident.GroupMonth:
			expr = "substr(event_date, 1, 8) || '01'"
		case incident.GroupYear:
			expr = "substr(event_date, 1, 5) || '01-01'"
		case incident.GroupWeek:
			// back to the Monday: strftime's %w counts days from Sunday
			expr = "date(event_date, '-' || ((CAST(strftime('%w', event_date) AS INTEGER) + 6) % 7) || ' days')"
		}
		sel = append(sel, fmt.Sprintf("%s AS k%d", expr, i))
		group = append(group, fmt.Sprintf("k%d", i))
	}
	q := "SELECT " + strings.Join(sel, ", ") + ", sum(n), sum(fatalities) FROM daily_stats" + where
	return q + " GROUP BY " + strings.Join(group, ", "), args, true
}
