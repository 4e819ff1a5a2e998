package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"incidentmap/incident"
)

// Equal is incident.Equal, an exact equality test of one stored field.
type Equal = incident.Equal

// IsField reports whether name is a stored property an Equal may test.
func IsField(name string) bool { return incident.IsField(name) }

// compile translates f's predicates but the bbox into SQLite conditions. A
// predicate the data model cannot answer (an unknown property, a value of the
// wrong type) is an error wrapping incident.ErrInvalid.
func compile(f Filter) (sqlFilter, error) { return compileNames(f, nil) }

// compileIn is compile with f's Regions resolved to the stored spellings in
// q's snapshot (see resolveRegions), which the indexes answer.
func compileIn(ctx context.Context, q queryer, f Filter) (sqlFilter, error) {
	names, err := resolveRegions(ctx, q, f.Regions)
	if err != nil {
		return sqlFilter{}, err
	}
	return compileNames(f, names)
}

// compileNames is compile, with Regions as the stored values names holds when
// it is not nil.
func compileNames(f Filter, names *regionNames) (sqlFilter, error) {
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
		// Exact stored values: the region and admin1 indexes answer them.
		var or []string
		var a []any
		for _, side := range []struct {
			col  string
			vals []string
		}{{"i.region", names.regions}, {"i.admin1", names.admin1}} {
			if len(side.vals) == 0 {
				continue
			}
			or = append(or, side.col+" IN ("+placeholders(len(side.vals))+")")
			for _, v := range side.vals {
				a = append(a, v)
			}
		}
		if len(or) == 0 {
			add("0") // no stored region or governorate has any of these names
		} else {
			add("("+strings.Join(or, " OR ")+")", a...)
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
	q.bound = boundOf(f)
	return q, nil
}

// regionNames are the stored values of region and admin1 that a Regions
// filter matches.
type regionNames struct{ regions, admin1 []string }

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

// resolveRegions finds the stored spellings of region and admin1 that
// regions name, in any letter case, so that the filter compares exact values
// an index answers: compared through lower() it read every row (or every row
// of a date range) to count regions=Anbar for a year, 5.7 s at ten million.
// The distinct values come off the indexes that lead with them, a seek each.
// nil when regions is empty.
func resolveRegions(ctx context.Context, q queryer, regions []string) (*regionNames, error) {
	if len(regions) == 0 {
		return nil, nil
	}
	keys := regionKeys(regions)
	r := &regionNames{}
	for _, side := range []struct {
		col string
		dst *[]string
	}{{"region", &r.regions}, {"admin1", &r.admin1}} {
		vals, err := distinctValues(ctx, q, side.col)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			if slices.Contains(keys, strings.ToLower(v)) {
				*side.dst = append(*side.dst, v)
			}
		}
	}
	return r, nil
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// distinctValues lists the distinct values of col (region or admin1, each
// leading an index) by skipping from one value to the next: a seek per value
// instead of a read of every row.
func distinctValues(ctx context.Context, q queryer, col string) ([]string, error) {
	// col is one of two names of ours, never input.
	rows, err := q.QueryContext(ctx, `WITH RECURSIVE v(x) AS (
		SELECT (SELECT min(`+col+`) FROM incidents)
		UNION ALL
		SELECT (SELECT min(`+col+`) FROM incidents WHERE `+col+` > v.x) FROM v WHERE v.x IS NOT NULL)
		SELECT x FROM v WHERE x IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("distinct %s: %w", col, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("distinct %s: %w", col, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// orderBy is the ORDER BY list of keys (checked by compile): each key's
// column and direction, then the id in the last key's direction unless a key
// is the id already, so that the order is total (offset pages never skip or
// repeat a row) and an index on the last key, which holds the id after it,
// can serve it whole.
func orderBy(keys []incident.SortKey) string {
	var out []string
	desc, byID := false, false
	for _, k := range keys {
		dir := ""
		if k.Desc {
			dir = " DESC"
		}
		out = append(out, cqlColumns[k.Field].SQL+dir)
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

// placeholders is "?,?,…" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// ftsQuery is the FTS5 query of full-text terms: each term quoted (so FTS5
// operators, column names and punctuation are plain text), a prefix term
// starred, a term's alternatives OR-ed, all terms AND-ed.
func ftsQuery(terms []incident.Term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		alts := make([]string, 0, 1+len(t.Any))
		for _, s := range append([]string{t.Text}, t.Any...) {
			q := `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
			if t.Prefix {
				q += "*"
			}
			alts = append(alts, q)
		}
		parts[i] = alts[0]
		if len(alts) > 1 {
			// any spelling or name of the term
			parts[i] = "(" + strings.Join(alts, " OR ") + ")"
		}
	}
	return strings.Join(parts, " AND ")
}
