package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"incidentmap/incident"
	"incidentmap/internal/cqlsql"
)

// IsField reports whether name is a stored property an Equal may test.
func IsField(name string) bool { return incident.IsField(name) }

// compile translates f's predicates but the bbox into SQLite conditions. A
// predicate the data model cannot answer (an unknown property, a value of the
// wrong type) is an error wrapping incident.ErrInvalid.
func compile(f incident.Filter) (sqlFilter, error) { return compileNames(f, nil) }

// compileIn is compile with f's Regions resolved to the stored spellings in
// q's snapshot (see resolveRegions), which the indexes answer.
func compileIn(ctx context.Context, q queryer, f incident.Filter) (sqlFilter, error) {
	names, err := resolveRegions(ctx, q, f.Regions)
	if err != nil {
		return sqlFilter{}, err
	}
	return compileNames(f, names)
}

// compileNames is compile, with Regions as the stored values names holds when
// it is not nil.
func compileNames(f incident.Filter, names *regionNames) (sqlFilter, error) {
	q := sqlFilter{Filter: f}
	add := func(sql string, a ...any) {
		q.conds = append(q.conds, sql)
		q.args = append(q.args, a...)
	}
	if d := f.Interval.StartDate(); d != "" {
		add("i.event_date >= ?", d)
	}
	if d := f.Interval.EndDate(); d != "" {
		add("i.event_date <= ?", d)
	}
	inList := func(expr string, vals []string) {
		if len(vals) == 0 {
			return
		}
		a := make([]any, len(vals))
		for i, v := range vals {
			a[i] = v
		}
		add(expr+" IN ("+placeholders(len(vals))+")", a...)
	}
	inList("i.event_type", f.EventTypes)
	inList("i.sub_event_type", f.SubEventTypes)
	switch {
	case len(f.Regions) == 0:
	case names != nil:
		// Exact stored pairs: the admin1 index (admin1, region, date,
		// fatalities) seeks each pair and then its date range, and counts
		// from the index alone. (admin1 IN (…) alone made SQLite skip-scan
		// the region column, reading every row of the governorate for one
		// year: regions=Anbar for 2021 read 1.7 million index entries a
		// page at ten million, 2.8 s.)
		if len(names.pairs) == 0 {
			add("0") // no stored region or governorate has any of these names
		} else {
			a := make([]any, 0, 2*len(names.pairs))
			rows := make([]string, len(names.pairs))
			for i, p := range names.pairs {
				rows[i] = "(?,?)"
				a = append(a, p[0], p[1])
			}
			add("(i.admin1, i.region) IN (VALUES "+strings.Join(rows, ",")+")", a...)
		}
	default:
		keys := regionKeys(f.Regions)
		ph := placeholders(len(keys))
		a := make([]any, 0, 2*len(keys))
		for _, k := range keys {
			a = append(a, k)
		}
		a = append(a, a...)
		add("(lower(i.region) IN ("+ph+") OR lower(i.admin1) IN ("+ph+"))", a...)
	}
	if f.UpdatedSince != "" {
		add("i.updated_at >= ?", f.UpdatedSince)
	}
	if f.MinFatalities != nil {
		add("i.fatalities >= ?", *f.MinFatalities)
	}
	if f.MaxFatalities != nil {
		add("i.fatalities <= ?", *f.MaxFatalities)
	}
	if len(f.Actors) > 0 {
		ph := placeholders(len(f.Actors))
		a := make([]any, 0, 2*len(f.Actors))
		for _, v := range f.Actors {
			a = append(a, v)
		}
		a = append(a, a...)
		add("(i.actor1 IN ("+ph+") OR i.actor2 IN ("+ph+"))", a...)
	}
	for _, e := range f.Equals {
		if !IsField(e.Field) {
			return q, fmt.Errorf("%q is not a property that can be compared: %w", e.Field, incident.ErrInvalid)
		}
		add(cqlColumns[e.Field].SQL+" = ?", e.Value)
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			add("0")
		} else {
			a := make([]any, len(f.IDs))
			for i, id := range f.IDs {
				a[i] = id
			}
			add("i.id IN ("+placeholders(len(f.IDs))+")", a...)
		}
	}
	for _, k := range f.Sort {
		if !IsField(k.Field) {
			return q, fmt.Errorf("%q is not a property to sort by: %w", k.Field, incident.ErrInvalid)
		}
	}
	if len(f.Text) > 0 {
		q.fts = ftsQuery(f.Text) // a condition of its own: see conditions
	}
	if f.Expr != nil {
		sql, args, err := translateCQL2(f.Expr, cqlColumns)
		if err != nil {
			return q, fmt.Errorf("filter: %w: %w", err, incident.ErrInvalid)
		}
		add("("+sql+")", args...)
	}
	q.bound = cqlsql.Bound(f)
	return q, nil
}

// regionNames are what a Regions filter matches, as stored: the rows of the
// (admin1, region) pairs.
type regionNames struct {
	pairs [][2]string
}

// regionKeys are the names a Regions filter asks for, lower-cased, with an
// ISO 3166-2 code (IQ-AN) standing for its governorate's name.
func regionKeys(regions []string) []string {
	out := make([]string, len(regions))
	for i, v := range regions {
		if name, ok := incident.NameOfISO(v); ok {
			v = name
		}
		out[i] = strings.ToLower(v)
	}
	return out
}

// resolveRegions finds the stored (admin1, region) pairs whose admin1 or
// region regions name, in any letter case, so that the admin1 index answers
// the filter: compared through lower() it read every row, or every row of a
// date range, to count regions=Anbar for a year (5.7 s at ten million), and
// region OR admin1 made SQLite look up every matching row in the table. The
// distinct pairs come off the admin1 index, a seek each. nil when regions is
// empty.
func resolveRegions(ctx context.Context, q queryer, regions []string) (*regionNames, error) {
	if len(regions) == 0 {
		return nil, nil
	}
	keys := regionKeys(regions)
	pairs, err := distinctPairs(ctx, q)
	if err != nil {
		return nil, err
	}
	r := &regionNames{}
	for _, p := range pairs {
		if slices.Contains(keys, strings.ToLower(p[0])) || slices.Contains(keys, strings.ToLower(p[1])) {
			r.pairs = append(r.pairs, p)
		}
	}
	return r, nil
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// distinctPairs lists the distinct (admin1, region) pairs of the incidents
// by skipping along the admin1 index from one pair to the next: two seeks
// per pair (tens of them) instead of a read of every row. The next pair is
// the next region of the same governorate, else the first of the next
// governorate: a row-value (admin1, region) > (?, ?) seeks only on admin1
// and reads every entry of the governorate to get past the pair (all
// 172,000 of Anbar at a million; 2.8 s a request at ten million for any
// regions= filter).
func distinctPairs(ctx context.Context, q queryer) ([][2]string, error) {
	var out [][2]string
	next := func(query string, args ...any) (bool, error) {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return false, fmt.Errorf("regions stored: %w", err)
		}
		defer rows.Close()
		if !rows.Next() {
			return false, rows.Err()
		}
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return false, fmt.Errorf("regions stored: %w", err)
		}
		out = append(out, p)
		return true, nil
	}
	ok, err := next(`SELECT admin1, region FROM incidents INDEXED BY incidents_admin1_stats ORDER BY admin1, region LIMIT 1`)
	for ok && err == nil && len(out) < maxRegionPairs {
		last := out[len(out)-1]
		ok, err = next(nextRegionOfGovernorate, last[0], last[1])
		if !ok && err == nil {
			ok, err = next(firstPairOfNextGovernorate, last[0])
		}
	}
	return out, err
}

// The seeks of distinctPairs from one pair to the next (see there).
const (
	nextRegionOfGovernorate = `SELECT admin1, region FROM incidents INDEXED BY incidents_admin1_stats
		WHERE admin1 = ? AND region > ? ORDER BY region LIMIT 1`
	firstPairOfNextGovernorate = `SELECT admin1, region FROM incidents INDEXED BY incidents_admin1_stats
		WHERE admin1 > ? ORDER BY admin1, region LIMIT 1`
)

// maxRegionPairs bounds the walk of distinctPairs; a database with more
// governorate and region combinations than this is not one of regions.
const maxRegionPairs = 10000

// placeholders is "?,?,…" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// ftsQuery is the FTS5 query of full-text terms: each term (see ftsTerm),
// all terms AND-ed.
func ftsQuery(terms []incident.Term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = ftsTerm(t)
	}
	return strings.Join(parts, " AND ")
}

// ftsTerm is the FTS5 query of one term: quoted (so FTS5 operators, column
// names and punctuation are plain text), a prefix term starred, the term's
// alternatives OR-ed.
func ftsTerm(t incident.Term) string {
	alts := make([]string, 0, 1+len(t.Any))
	for _, s := range append([]string{t.Text}, t.Any...) {
		q := `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		if t.Prefix {
			q += "*"
		}
		alts = append(alts, q)
	}
	if len(alts) == 1 {
		return alts[0]
	}
	// any spelling or name of the term
	return "(" + strings.Join(alts, " OR ") + ")"
}

// relevance is the SQL of the order of sortby=relevance (see
// incident.Relevance) but the id, and its arguments: the score: per term and group of fields, the
// group's weight when the term matches in those columns, which FTS5 answers
// with a column filter, one match per term and group for the whole query.
func relevance(terms []incident.Term) (string, []any) {
	var parts []string
	var args []any
	for _, t := range terms {
		for _, g := range incident.Relevance {
			parts = append(parts, fmt.Sprintf(
				"(CASE WHEN i.id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?) THEN %d ELSE 0 END)", g.Weight))
			args = append(args, "{"+strings.Join(g.Fields, " ")+"} : "+ftsTerm(t))
		}
	}
	var length []string
	for _, g := range incident.Relevance {
		for _, f := range g.Fields {
			length = append(length, "length(i."+f+")")
		}
	}
	return "(" + strings.Join(parts, " + ") + ") DESC, (" + strings.Join(length, " + ") + ")", args
}
