package store

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
	add := func(format string, ops ...*end) {
		parts := make([]any, len(ops))
		for i, o := range ops {
			parts[i] = o.sql
			t.args = append(t.args, o.args...)
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

// end is the SQL of one end of a temporal operand and its arguments.
type end struct {
	sql  string
	args []any
}

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
// SQLite's dates reach.
const (
	openStartDate = ""
	openEndDate   = "9999-99-99"
	openStartSecs = -1e18
	openEndSecs   = 1e18
	// daySecs is where a day ends: its last microsecond.
	daySecs = 86400 - 1e-6
)

// ends is the start and end of a temporal operand.
func (t *translator) ends(o cql2.Operand, dates bool) (*end, *end, error) {
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

// instant is the start and end of an instant (a date spans its day when
// compared in seconds); nil is an open end, start or end as isStart says.
func (t *translator) instant(o cql2.Operand, dates, isStart bool) (*end, *end, error) {
	if o == nil {
		if dates {
			v := any(openEndDate)
			if isStart {
				v = openStartDate
			}
			return &end{"?", []any{v}}, &end{"?", []any{v}}, nil
		}
		v := any(openEndSecs)
		if isStart {
			v = openStartSecs
		}
		return &end{"?", []any{v}}, &end{"?", []any{v}}, nil
	}
	switch o := o.(type) {
	case cql2.Property:
		c := t.cols[o.Name]
		if dates {
			return &end{c.SQL, nil}, &end{c.SQL, nil}, nil
		}
		start := "im_secs(" + c.SQL + ")"
		if c.Type == cql2.Date {
			return &end{start, nil}, &end{fmt.Sprintf("(%s + %g)", start, float64(daySecs)), nil}, nil
		}
		return &end{start, nil}, &end{start, nil}, nil
	case cql2.DateLit:
		if dates {
			d := o.V.Format("2006-01-02")
			return &end{"?", []any{d}}, &end{"?", []any{d}}, nil
		}
		s := secs(o.V)
		return &end{"?", []any{s}}, &end{"?", []any{s + daySecs}}, nil
	case cql2.TimestampLit:
		s := secs(o.V)
		return &end{"?", []any{s}}, &end{"?", []any{s}}, nil
	}
	return nil, nil, &cql2.Error{Pos: o.Position(), Msg: fmt.Sprintf("%s is not an instant", o.String())}
}

// secs is t as seconds since 1970 with its fraction.
func secs(t time.Time) float64 { return float64(t.Unix()) + float64(t.Nanosecond())/1e9 }
