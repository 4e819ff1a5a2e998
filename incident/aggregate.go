package incident

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

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

// Column is the incidents column a key groups: the event date for every
// time key, which is bucketed afterwards (see Bucket).
func (k GroupKey) Column() string {
	if k.Time() {
		return "event_date"
	}
	return string(k)
}

// Bucket is the value of time key k for an event date (YYYY-MM-DD): the first
// day of its day, ISO week, month or year. A malformed date (the schema's
// CHECK makes it impossible) is its own bucket.
func (k GroupKey) Bucket(date string) string {
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
	Groups []Group // see Aggregator for the order
	// Count and Fatalities add up every matching incident: the sums over all
	// groups, whether or not a limit dropped some of them.
	Count      int64
	Fatalities int64
	// GroupsMatched is how many groups there are before a limit.
	GroupsMatched int
}

// coverOrders are the column orders of the indexes that cover aggregations
// (migration 10 and 9): grouping by a prefix of one of them, in its order,
// reads the groups off the index.
var coverOrders = [][]string{
	{"event_date", "event_type", "sub_event_type"},
	{"admin1", "region", "event_date"},
}

// GroupColumns are the columns every engine groups an aggregation by keys
// by, in the order AddUp reads them (then count and the sum of fatalities): the keys' columns,
// widened to the shortest prefix of a covering index that holds them all
// (finer groups, added up in Go afterwards), or as asked when none does.
func GroupColumns(keys []GroupKey) []string {
	var need []string
	for _, k := range keys {
		if c := k.Column(); !slices.Contains(need, c) {
			need = append(need, c)
		}
	}
	for _, idx := range coverOrders {
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

// RawGroup is one row of an aggregation query: the grouped columns' values,
// count and fatalities.
type RawGroup struct {
	Vals   []string
	N, Fat int64
}

// RollUp adds the rows of a query grouped by cols up into the groups of
// keys, in the order Aggregator documents.
func RollUp(raw []RawGroup, cols []string, keys []GroupKey) Aggregation {
	// pos[i] is where key i's column sits in a row.
	pos := make([]int, len(keys))
	for i, k := range keys {
		if pos[i] = slices.Index(cols, string(k)); pos[i] < 0 {
			pos[i] = slices.Index(cols, k.Column())
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
			vals[i] = r.Vals[pos[i]]
			if k.Time() && k != GroupDay {
				if buckets[i] == nil {
					buckets[i] = map[string]string{}
				}
				b, ok := buckets[i][vals[i]]
				if !ok {
					b = k.Bucket(vals[i])
					buckets[i][vals[i]] = b
				}
				vals[i] = b
			}
			id.WriteString(vals[i])
			id.WriteByte(0)
		}
		agg.Count += r.N
		agg.Fatalities += r.Fat
		if g, ok := index[id.String()]; ok {
			agg.Groups[g].Count += r.N
			agg.Groups[g].Fatalities += r.Fat
			continue
		}
		index[id.String()] = len(agg.Groups)
		agg.Groups = append(agg.Groups, Group{Keys: slices.Clone(vals), Count: r.N, Fatalities: r.Fat})
	}
	agg.GroupsMatched = len(agg.Groups)
	agg.sort()
	return agg
}

// sort orders the groups as Aggregator documents.
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
// values that have most incidents (ties by value); a itself is not changed,
// since the cache shares it.
func (a Aggregation) Top(limit int) Aggregation {
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

// AddUp rolls rows of GroupColumns(keys), count and fatalities up into the
// groups of keys, in the order Aggregator documents: every engine's aggregation ends here,
// so they bucket and order alike. Apply a limit with Top.
func AddUp(rows Rows, keys []GroupKey) (Aggregation, error) {
	cols := GroupColumns(keys)
	var raw []RawGroup
	dest := make([]any, len(cols)+2)
	for rows.Next() {
		g := RawGroup{Vals: make([]string, len(cols))}
		for i := range g.Vals {
			dest[i] = &g.Vals[i]
		}
		dest[len(cols)], dest[len(cols)+1] = &g.N, &g.Fat
		if err := rows.Scan(dest...); err != nil {
			return Aggregation{}, fmt.Errorf("aggregate: %w", err)
		}
		raw = append(raw, g)
	}
	if err := rows.Err(); err != nil {
		return Aggregation{}, fmt.Errorf("aggregate: %w", err)
	}
	return RollUp(raw, cols, keys), nil
}
