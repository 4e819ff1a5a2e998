package store

import (
	"fmt"
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
func compile(f Filter) (sqlFilter, error) {
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
	if len(f.Regions) > 0 {
		ph := placeholders(len(f.Regions))
		a := make([]any, 0, 2*len(f.Regions))
		for _, v := range f.Regions {
			// An ISO 3166-2 code (IQ-AN) stands for its governorate's name.
			if name, ok := incident.NameOfISO(v); ok {
				v = name
			}
			a = append(a, strings.ToLower(v))
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
