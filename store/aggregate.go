package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// aggregateCacheSize bounds the aggregation queries whose grouped rows are
// kept per data version: the timeline's and the charts' of a few filter
// states, at most some megabytes each.
const aggregateCacheSize = 64

// GroupKey is a property incidents can be grouped by in an aggregation.
type GroupKey string

// The group keys. The time keys hold the first day of their bucket as
// YYYY-MM-DD; a week starts on Monday (ISO 8601).
const (
	GroupDay          GroupKey = "day"
	GroupWeek         GroupKey = "week"
	GroupMonth        GroupKey = "month"
	GroupYear         GroupKey = "year"
	GroupEventType    GroupKey = "event_type"
	GroupSubEventType GroupKey = "sub_event_type"
	GroupRegion       GroupKey = "region"
	GroupAdmin1       GroupKey = "admin1"
	GroupActor1       GroupKey = "actor1"
	GroupActor2       GroupKey = "actor2"
)

// GroupKeys lists every group key, time keys first.
var GroupKeys = []GroupKey{GroupDay, GroupWeek, GroupMonth, GroupYear, GroupEventType, GroupSubEventType,
	GroupRegion, GroupAdmin1, GroupActor1, GroupActor2}

// ParseGroupKey checks a group key's name.
func ParseGroupKey(s string) (GroupKey, bool) {
	for _, k := range GroupKeys {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// Time reports whether k buckets the event date.
func (k GroupKey) Time() bool {
	switch k {
	case GroupDay, GroupWeek, GroupMonth, GroupYear:
		return true
	}
	return false
}

// column is the incidents column a key groups: the event date for every
// time key, which is bucketed afterwards (see bucket).
func (k GroupKey) column() string {
	if k.Time() {
		return "event_date"
	}
	return string(k)
}

// bucket is the value of time key k for an event date (YYYY-MM-DD): the first
// day of its day, ISO week, month or year. A malformed date (the schema's
// CHECK makes it impossible) is its own bucket.
func (k GroupKey) bucket(date string) string {
	if len(date) != 10 {
		return date
	}
	switch k {
	case GroupMonth:
		return date[:7] + "-01"
	case GroupYear:
		return date[:4] + "-01-01"
	case GroupWeek:
		d, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return date
		}
		back := (int(d.Weekday()) + 6) % 7 // days since Monday
		return d.AddDate(0, 0, -back).Format(time.DateOnly)
	}
	return date
}

// Group is one group of an aggregation: the values of its keys, in the order
// they were asked for, and what its incidents add up to.
type Group struct {
	Keys       []string
	Count      int64
	Fatalities int64
}

// Aggregation is what an aggregation of the incidents a filter selects gives.
type Aggregation struct {
	Keys   []GroupKey
	Groups []Group // see Aggregate for the order
	// Count and Fatalities add up every matching incident: the sums over all
	// groups, whether or not a limit dropped some of them.
	Count      int64
	Fatalities int64
	// GroupsMatched is how many groups there are before a limit.
	GroupsMatched int
}

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
func (s *SQLite) Aggregate(ctx context.Context, f Filter, keys []GroupKey, limit int) (Aggregation, error) {
	if len(keys) == 0 {
		return Aggregation{}, fmt.Errorf("aggregate: no group key")
	}
	f.Limit, f.Offset, f.ByID, f.ByRelevance = 0, 0, false, false
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		return Aggregation{}, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	var query string
	var args []any
	cols := groupColumns(keys)
	if q, a, ok := dailyStatsQuery(f, keys); ok {
		// Only dates and types: the daily counts answer it (migration 14).
		query, args, cols = q, a, keyColumns(keys)
	} else {
		sf, err := compileIn(ctx, tx, f)
		if err != nil {
			return Aggregation{}, err
		}
		defer s.geoms.pin(f.Expr)()
		path, err := aggregatePathOf(ctx, tx, &sf, keys)
		if err != nil {
			return Aggregation{}, err
		}
		query, args = aggregateQuery(&sf, keys, path)
	}
	// The grouped rows are cached by their query, so the timeline's day,
	// week, month and year (each with or without event_type) and the counts
	// per type, all one query (see groupColumns), cost one scan between them.
	raw, err := cachedIn(ctx, tx, &s.aggregates, fmt.Sprint(query, args), func() ([]rawGroup, error) {
		return aggregateRows(ctx, tx, query, args, len(cols))
	})
	if err != nil {
		return Aggregation{}, err
	}
	// The groups asked for are kept too, so asking again costs a lookup.
	// Both caches are of the snapshot's data version.
	rolledKey := fmt.Sprint(query, args, keys)
	all, err := cachedIn(ctx, tx, &s.rolled, rolledKey, func() (Aggregation, error) {
		return rollUp(raw, cols, keys), nil
	})
	if err != nil {
		return Aggregation{}, err
	}
	return all.top(limit), nil
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
func aggregatePathOf(ctx context.Context, tx *sql.Tx, f *sqlFilter, keys []GroupKey) (aggregatePath, error) {
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
		box, err := compile(Filter{BBox: f.Filter.BBox})
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
func aggregateQuery(f *sqlFilter, keys []GroupKey, path aggregatePath) (string, []any) {
	cols := groupColumns(keys)
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

// statsIndexes are the column orders of the indexes that cover aggregations
// (migration 10 and 9): grouping by a prefix of one of them, in its order,
// reads the groups off the index.
var statsIndexes = [][]string{
	{"event_date", "event_type", "sub_event_type"},
	{"admin1", "region", "event_date"},
}

// groupColumns are the columns SQLite groups by for keys: the keys' columns,
// widened to the shortest prefix of a covering index that holds them all
// (finer groups, added up in Go afterwards), or as asked when none does.
func groupColumns(keys []GroupKey) []string {
	var need []string
	for _, k := range keys {
		if c := k.column(); !slices.Contains(need, c) {
			need = append(need, c)
		}
	}
	for _, idx := range statsIndexes {
		n := 0
		for i, c := range idx {
			if slices.Contains(need, c) {
				n = i + 1
			}
		}
		// Never narrower than two columns: the timeline's buckets alone and
		// with event_type, or admin1 and region, then share one query (and
		// its cached rows) at little cost, since the second column has few
		// values per value of the first.
		n = max(n, min(2, len(idx)))
		prefix := idx[:n]
		if !slices.ContainsFunc(need, func(c string) bool { return !slices.Contains(prefix, c) }) {
			return prefix
		}
	}
	return need
}

// rawGroup is one row of an aggregation query: the grouped columns' values,
// count and fatalities.
type rawGroup struct {
	vals   []string
	n, fat int64
}

// aggregateRows runs an aggregation query of ncols grouped columns.
func aggregateRows(ctx context.Context, tx *sql.Tx, query string, args []any, ncols int) ([]rawGroup, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	defer rows.Close()
	var out []rawGroup
	dest := make([]any, ncols+2)
	for rows.Next() {
		g := rawGroup{vals: make([]string, ncols)}
		for i := range g.vals {
			dest[i] = &g.vals[i]
		}
		dest[ncols], dest[ncols+1] = &g.n, &g.fat
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

// rollUp adds the rows of a query grouped by cols up into the groups of
// keys, in Aggregate's order.
func rollUp(raw []rawGroup, cols []string, keys []GroupKey) Aggregation {
	// pos[i] is where key i's column sits in a row.
	pos := make([]int, len(keys))
	for i, k := range keys {
		if pos[i] = slices.Index(cols, string(k)); pos[i] < 0 {
			pos[i] = slices.Index(cols, k.column())
		}
	}
	agg := Aggregation{Keys: keys}
	index := map[string]int{} // joined keys → position in agg.Groups
	vals := make([]string, len(keys))
	buckets := make([]map[string]string, len(keys)) // date → bucket, per time key
	var id strings.Builder
	for _, r := range raw {
		id.Reset()
		for i, k := range keys {
			vals[i] = r.vals[pos[i]]
			if k.Time() && k != GroupDay {
				if buckets[i] == nil {
					buckets[i] = map[string]string{}
				}
				b, ok := buckets[i][vals[i]]
				if !ok {
					b = k.bucket(vals[i])
					buckets[i][vals[i]] = b
				}
				vals[i] = b
			}
			id.WriteString(vals[i])
			id.WriteByte(0)
		}
		agg.Count += r.n
		agg.Fatalities += r.fat
		if g, ok := index[id.String()]; ok {
			agg.Groups[g].Count += r.n
			agg.Groups[g].Fatalities += r.fat
			continue
		}
		index[id.String()] = len(agg.Groups)
		agg.Groups = append(agg.Groups, Group{Keys: slices.Clone(vals), Count: r.n, Fatalities: r.fat})
	}
	agg.GroupsMatched = len(agg.Groups)
	agg.sort()
	return agg
}

// sort orders the groups as Aggregate documents.
func (a *Aggregation) sort() {
	// rank[i][v] is value v's rank among the values of non-time key i.
	rank := make([]map[string]int, len(a.Keys))
	for i, k := range a.Keys {
		if k.Time() {
			continue
		}
		totals := map[string]int64{}
		for _, g := range a.Groups {
			totals[g.Keys[i]] += g.Count
		}
		vals := make([]string, 0, len(totals))
		for v := range totals {
			vals = append(vals, v)
		}
		slices.SortFunc(vals, func(x, y string) int {
			if totals[x] != totals[y] {
				if totals[x] > totals[y] {
					return -1
				}
				return 1
			}
			return strings.Compare(x, y)
		})
		rank[i] = make(map[string]int, len(vals))
		for r, v := range vals {
			rank[i][v] = r
		}
	}
	slices.SortFunc(a.Groups, func(x, y Group) int {
		for i, k := range a.Keys {
			if k.Time() {
				if c := strings.Compare(x.Keys[i], y.Keys[i]); c != 0 {
					return c
				}
				continue
			}
			if c := rank[i][x.Keys[i]] - rank[i][y.Keys[i]]; c != 0 {
				return c
			}
		}
		return 0
	})
}

// Top is a with only the groups of the limit combinations of non-time key
// values that have most incidents; see Aggregate.
func (a Aggregation) Top(limit int) Aggregation { return a.top(limit) }

// top is a with only the groups of the limit combinations of non-time key
// values that have most incidents (ties by value); a itself is not changed,
// since the cache shares it.
func (a Aggregation) top(limit int) Aggregation {
	var other []int // positions of the non-time keys
	for i, k := range a.Keys {
		if !k.Time() {
			other = append(other, i)
		}
	}
	if limit <= 0 || len(other) == 0 {
		return a
	}
	combo := func(g *Group) string {
		var b strings.Builder
		for _, i := range other {
			b.WriteString(g.Keys[i])
			b.WriteByte(0)
		}
		return b.String()
	}
	totals := map[string]int64{}
	for i := range a.Groups {
		totals[combo(&a.Groups[i])] += a.Groups[i].Count
	}
	if len(totals) <= limit {
		return a
	}
	combos := make([]string, 0, len(totals))
	for c := range totals {
		combos = append(combos, c)
	}
	slices.SortFunc(combos, func(x, y string) int {
		if totals[x] != totals[y] {
			if totals[x] > totals[y] {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	})
	keep := make(map[string]bool, limit)
	for _, c := range combos[:limit] {
		keep[c] = true
	}
	out := a
	out.Groups = nil
	for i := range a.Groups {
		if keep[combo(&a.Groups[i])] {
			out.Groups = append(out.Groups, a.Groups[i])
		}
	}
	return out
}

// Rows is what AddUp reads: database/sql's rows and pgx's both fit.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// GroupColumns are the incidents columns an aggregation by keys groups by,
// in the order AddUp reads them (then count and the sum of fatalities).
func GroupColumns(keys []GroupKey) []string { return groupColumns(keys) }

// AddUp rolls rows of GroupColumns(keys), count and fatalities up into the
// groups of keys, in Aggregate's order: every engine's aggregation ends here,
// so they bucket and order alike. Apply a limit with Top.
func AddUp(rows Rows, keys []GroupKey) (Aggregation, error) {
	cols := groupColumns(keys)
	var raw []rawGroup
	dest := make([]any, len(cols)+2)
	for rows.Next() {
		g := rawGroup{vals: make([]string, len(cols))}
		for i := range g.vals {
			dest[i] = &g.vals[i]
		}
		dest[len(cols)], dest[len(cols)+1] = &g.n, &g.fat
		if err := rows.Scan(dest...); err != nil {
			return Aggregation{}, fmt.Errorf("aggregate: %w", err)
		}
		raw = append(raw, g)
	}
	if err := rows.Err(); err != nil {
		return Aggregation{}, fmt.Errorf("aggregate: %w", err)
	}
	return rollUp(raw, cols, keys), nil
}

// dailyKeys are the keys the daily counts (migration 14) can group by.
var dailyKeys = []GroupKey{GroupDay, GroupWeek, GroupMonth, GroupYear, GroupEventType, GroupSubEventType}

// keyColumns names the columns of a dailyStatsQuery's rows: the keys.
func keyColumns(keys []GroupKey) []string {
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
func dailyStatsQuery(f Filter, keys []GroupKey) (string, []any, bool) {
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
		case GroupDay:
			expr = "event_date"
		case GroupMonth:
			expr = "substr(event_date, 1, 8) || '01'"
		case GroupYear:
			expr = "substr(event_date, 1, 5) || '01-01'"
		case GroupWeek:
			// back to the Monday: strftime's %w counts days from Sunday
			expr = "date(event_date, '-' || ((CAST(strftime('%w', event_date) AS INTEGER) + 6) % 7) || ' days')"
		}
		sel = append(sel, fmt.Sprintf("%s AS k%d", expr, i))
		group = append(group, fmt.Sprintf("k%d", i))
	}
	q := "SELECT " + strings.Join(sel, ", ") + ", sum(n), sum(fatalities) FROM daily_stats" + where
	return q + " GROUP BY " + strings.Join(group, ", "), args, true
}
