package cqlsql

import (
	"fmt"
	"strings"
	"time"

	"incidentmap/cql2"
)

// temporal translates a temporal function. Each side is an interval
// [start, end] (an instant is one with start = end) and each function is
// Allen's relation between the two, written with comparisons of the ends.
//
// When every side has the granularity of a day (date properties, DATE
// literals, intervals of dates) the ends compare as YYYY-MM-DD text, which
// an index on the date column serves. Otherwise they compare as seconds
// since 1970 (to the microsecond), and a date stands for its whole day, from
// 00:00:00 to the end of 23:59:59 UTC. An open end ('..') is before or after
// every instant.
func (t *translator) temporal(b *strings.Builder, e cql2.Temporal) error {
	dates := t.dayGranular(e.A) && t.dayGranular(e.B)
	as, ae, err := t.ends(e.A, dates)
	if err != nil {
		return err
	}
	bs, be, err := t.ends(e.B, dates)
	if err != nil {
		return err
	}
	var conds []string
	// add writes one comparison; each end binds its values as it is
	// written, so placeholders come in the order of the text.
	add := func(format string, ends ...end) {
		parts := make([]any, len(ends))
		for i, o := range ends {
			parts[i] = o()
		}
		conds = append(conds, fmt.Sprintf(format, parts...))
	}
	switch e.Op {
	case "T_BEFORE":
		add("%s < %s", ae, bs)
	case "T_AFTER":
		add("%s > %s", as, be)
	case "T_MEETS":
		add("%s = %s", ae, bs)
	case "T_METBY":
		add("%s = %s", as, be)
	case "T_OVERLAPS":
		add("%s < %s", as, bs)
		add("%s > %s", ae, bs)
		add("%s < %s", ae, be)
	case "T_OVERLAPPEDBY":
		add("%s < %s", bs, as)
		add("%s > %s", be, as)
		add("%s < %s", be, ae)
	case "T_STARTS":
		add("%s = %s", as, bs)
		add("%s < %s", ae, be)
	case "T_STARTEDBY":
		add("%s = %s", as, bs)
		add("%s > %s", ae, be)
	case "T_DURING":
		add("%s > %s", as, bs)
		add("%s < %s", ae, be)
	case "T_CONTAINS":
		add("%s < %s", as, bs)
		add("%s > %s", ae, be)
	case "T_FINISHES":
		add("%s > %s", as, bs)
		add("%s = %s", ae, be)
	case "T_FINISHEDBY":
		add("%s < %s", as, bs)
		add("%s = %s", ae, be)
	case "T_EQUALS":
		add("%s = %s", as, bs)
		add("%s = %s", ae, be)
	case "T_DISJOINT":
		add("(%s < %s OR %s > %s)", ae, bs, as, be)
	case "T_INTERSECTS":
		add("%s <= %s", as, be)
		add("%s >= %s", ae, bs)
	default:
		return &cql2.Error{Pos: e.Pos, Msg: e.Op + " is not a temporal function"}
	}
	b.WriteString("(" + strings.Join(conds, " AND ") + ")")
	return nil
}

// end writes one end of a temporal operand, binding its value if it has one.
type end func() string

// dayGranular reports whether o is a date or made of dates.
func (t *translator) dayGranular(o cql2.Operand) bool {
	switch o := o.(type) {
	case cql2.DateLit:
		return true
	case cql2.Property:
		return t.cols[o.Name].Type == cql2.Date
	case cql2.Interval:
		return (o.Start == nil || t.dayGranular(o.Start)) && (o.End == nil || t.dayGranular(o.End))
	}
	return false
}

// Open ends: before and after every date text, and every number of seconds
// a stored date reaches.
const (
	openStartDate = ""
	openEndDate   = "9999-99-99"
	openStartSecs = -1e18
	openEndSecs   = 1e18
	// daySecs is where a day ends: its last microsecond.
	daySecs = 86400 - 1e-6
)

// ends is the start and end of a temporal operand.
func (t *translator) ends(o cql2.Operand, dates bool) (end, end, error) {
	if iv, ok := o.(cql2.Interval); ok {
		s, _, err := t.instant(iv.Start, dates, true)
		if err != nil {
			return nil, nil, err
		}
		_, e, err := t.instant(iv.End, dates, false)
		return s, e, err
	}
	return t.instant(o, dates, true)
}

// bound is an end that binds v, as a value of typ.
func (t *translator) bound(v any, typ cql2.Type) end {
	return func() string { return t.d.Literal(t.b.Arg(v), typ) }
}

// sql is an end that is an expression.
func sql(s string) end { return func() string { return s } }

// instant is the start and end of an instant (a date spans its day when
// compared in seconds); nil is an open end, start or end as isStart says.
func (t *translator) instant(o cql2.Operand, dates, isStart bool) (end, end, error) {
	if o == nil {
		if dates {
			v := openEndDate
			if isStart {
				v = openStartDate
			}
			return t.bound(v, cql2.Date), t.bound(v, cql2.Date), nil
		}
		v := float64(openEndSecs)
		if isStart {
			v = openStartSecs
		}
		return t.bound(v, cql2.Number), t.bound(v, cql2.Number), nil
	}
	switch o := o.(type) {
	case cql2.Property:
		c := t.cols[o.Name]
		if dates {
			// ISO dates order alike under every collation, so the
			// column stays as it is and its index serves.
			return sql(c.SQL), sql(c.SQL), nil
		}
		start := t.d.Seconds(c.SQL)
		if c.Type == cql2.Date {
			return sql(start), sql(fmt.Sprintf("(%s + %s)", start, t.d.Literal(fmt.Sprintf("%g", float64(daySecs)), cql2.Number))), nil
		}
		return sql(start), sql(start), nil
	case cql2.DateLit:
		if dates {
			d := o.V.Format("2006-01-02")
			return t.bound(d, cql2.Date), t.bound(d, cql2.Date), nil
		}
		s := Secs(o.V)
		return t.bound(s, cql2.Number), t.bound(s+daySecs, cql2.Number), nil
	case cql2.TimestampLit:
		s := Secs(o.V)
		return t.bound(s, cql2.Number), t.bound(s, cql2.Number), nil
	}
	return nil, nil, &cql2.Error{Pos: o.Position(), Msg: fmt.Sprintf("%s is not an instant", o.String())}
}

// Secs is t as seconds since 1970 with its fraction: float64(unix seconds)
// + float64(nanoseconds)/1e9, the formula every engine's Seconds follows so
// that equal instants compare equal.
func Secs(t time.Time) float64 { return float64(t.Unix()) + float64(t.Nanosecond())/1e9 }
