package cql2

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Type is the kind of value a property holds.
type Type int

// The property types SQL knows how to compare.
const (
	String   Type = iota // text
	Integer              // whole number
	Number               // any number
	Date                 // calendar date stored as text YYYY-MM-DD
	DateTime             // instant stored as RFC 3339 text in UTC, to the second (…Z)
	Point                // a point stored as longitude and latitude columns
)

// String names the type in error messages.
func (t Type) String() string {
	return [...]string{"text", "integer", "number", "date", "date-time", "point"}[t]
}

// Column says how a property is stored. Its SQL text is trusted: it must come
// from the caller's fixed table, never from a request.
type Column struct {
	Type Type
	SQL  string // column expression of a scalar property
	X, Y string // longitude and latitude columns of a Point
}

// SQL translates e into a SQLite boolean expression with ? placeholders and
// its arguments. Column text comes only from cols; every literal of the
// filter becomes an argument. A property missing from cols, or a value of the
// wrong type for its property, is an *Error naming the position.
func SQL(e Expr, cols map[string]Column) (string, []any, error) {
	t := &translator{cols: cols}
	var b strings.Builder
	if err := t.expr(&b, e); err != nil {
		return "", nil, err
	}
	return b.String(), t.args, nil
}

type translator struct {
	cols map[string]Column
	args []any
}

func (t *translator) expr(b *strings.Builder, e Expr) error {
	switch e := e.(type) {
	case And:
		return t.binary(b, e.L, " AND ", e.R)
	case Or:
		return t.binary(b, e.L, " OR ", e.R)
	case Not:
		b.WriteString("NOT (")
		if err := t.expr(b, e.X); err != nil {
			return err
		}
		b.WriteString(")")
	case BoolLit:
		if e.V {
			b.WriteString("1")
		} else {
			b.WriteString("0")
		}
	case Compare:
		typ, err := t.commonType(e.L, e.R)
		if err != nil {
			return err
		}
		l, err := t.operand(e.L, typ)
		if err != nil {
			return err
		}
		r, err := t.operand(e.R, typ)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "%s %s %s", l, e.Op, r)
	case Like:
		typ, err := t.commonType(e.X, e.Pattern)
		if err != nil {
			return err
		}
		if typ != String {
			return &Error{e.X.Position(), "LIKE compares text, not " + typ.String()}
		}
		pat, ok := e.Pattern.(StringLit)
		if !ok {
			return &Error{e.Pattern.Position(), "the LIKE pattern must be a quoted text"}
		}
		x, err := t.operand(e.X, String)
		if err != nil {
			return err
		}
		// SQLite's LIKE ignores case; CQL2's does not, so the pattern becomes a GLOB.
		t.args = append(t.args, likeToGlob(pat.V))
		fmt.Fprintf(b, "%s%s GLOB ?", x, not(e.Negated))
	case In:
		typ, err := t.commonType(append([]Operand{e.X}, e.List...)...)
		if err != nil {
			return err
		}
		x, err := t.operand(e.X, typ)
		if err != nil {
			return err
		}
		parts := make([]string, len(e.List))
		for i, o := range e.List {
			if parts[i], err = t.operand(o, typ); err != nil {
				return err
			}
		}
		fmt.Fprintf(b, "%s%s IN (%s)", x, not(e.Negated), strings.Join(parts, ", "))
	case Between:
		typ, err := t.commonType(e.X, e.Lo, e.Hi)
		if err != nil {
			return err
		}
		if typ == String {
			return &Error{e.X.Position(), "BETWEEN compares numbers or dates, not text"}
		}
		var s [3]string
		for i, o := range []Operand{e.X, e.Lo, e.Hi} {
			if s[i], err = t.operand(o, typ); err != nil {
				return err
			}
		}
		fmt.Fprintf(b, "%s%s BETWEEN %s AND %s", s[0], not(e.Negated), s[1], s[2])
	case IsNull:
		p, ok := e.X.(Property)
		if !ok {
			return &Error{e.X.Position(), "IS NULL takes a property"}
		}
		c, err := t.column(p)
		if err != nil {
			return err
		}
		expr := c.SQL
		if c.Type == Point {
			expr = c.X
		}
		switch {
		case c.Type == String && e.Negated:
			// A blank text (ACLED leaves fields blank; stored as '') is the
			// null of a text property: IS NULL finds it, IS NOT NULL does not.
			fmt.Fprintf(b, "(%s IS NOT NULL AND %s <> '')", expr, expr)
		case c.Type == String:
			fmt.Fprintf(b, "(%s IS NULL OR %s = '')", expr, expr)
		default:
			fmt.Fprintf(b, "%s IS%s NULL", expr, not(e.Negated))
		}
	case Intersects:
		c, err := t.column(e.Prop)
		if err != nil {
			return err
		}
		if c.Type != Point {
			return &Error{e.Prop.Pos, fmt.Sprintf("S_INTERSECTS needs the geometry property, and %s is %s", e.Prop.Name, c.Type)}
		}
		t.args = append(t.args, e.Box[0], e.Box[2], e.Box[1], e.Box[3])
		fmt.Fprintf(b, "(%s BETWEEN ? AND ? AND %s BETWEEN ? AND ?)", c.X, c.Y)
	default:
		return &Error{0, fmt.Sprintf("unsupported expression %T", e)}
	}
	return nil
}

func (t *translator) binary(b *strings.Builder, l Expr, op string, r Expr) error {
	b.WriteString("(")
	if err := t.expr(b, l); err != nil {
		return err
	}
	b.WriteString(op)
	if err := t.expr(b, r); err != nil {
		return err
	}
	b.WriteString(")")
	return nil
}

func (t *translator) column(p Property) (Column, error) {
	c, ok := t.cols[p.Name]
	if !ok {
		names := make([]string, 0, len(t.cols))
		for n := range t.cols {
			names = append(names, n)
		}
		sort.Strings(names)
		return c, &Error{p.Pos, fmt.Sprintf("unknown property %q; the queryables are: %s", p.Name, strings.Join(names, ", "))}
	}
	return c, nil
}

// literalType is the type a literal has on its own.
func literalType(o Operand) (Type, bool) {
	switch o.(type) {
	case StringLit:
		return String, true
	case NumberLit:
		return Number, true
	case DateLit:
		return Date, true
	case TimestampLit:
		return DateTime, true
	}
	return 0, false
}

// commonType is the type operands are compared as: the first property's,
// else the first literal's.
func (t *translator) commonType(ops ...Operand) (Type, error) {
	for _, o := range ops {
		if p, ok := o.(Property); ok {
			c, err := t.column(p)
			if err != nil {
				return 0, err
			}
			if c.Type == Point {
				return 0, &Error{p.Pos, fmt.Sprintf("%s is a geometry; compare it with S_INTERSECTS", p.Name)}
			}
			return c.Type, nil
		}
	}
	for _, o := range ops {
		if b, ok := o.(BoolLit); ok {
			return 0, &Error{b.Pos, "no property here is boolean"}
		}
	}
	typ, _ := literalType(ops[0])
	return typ, nil
}

// operand is the SQL of o compared as typ: a column, or a placeholder whose
// argument is appended.
func (t *translator) operand(o Operand, typ Type) (string, error) {
	if p, ok := o.(Property); ok {
		c, err := t.column(p)
		if err != nil {
			return "", err
		}
		if !compatible(c.Type, typ) {
			return "", &Error{p.Pos, fmt.Sprintf("%s is %s and cannot be compared with %s", p.Name, c.Type, typ)}
		}
		return c.SQL, nil
	}
	v, err := value(o, typ)
	if err != nil {
		return "", err
	}
	t.args = append(t.args, v)
	return "?", nil
}

func compatible(a, b Type) bool {
	num := func(t Type) bool { return t == Integer || t == Number }
	day := func(t Type) bool { return t == Date || t == DateTime }
	return a == b || num(a) && num(b) || day(a) && day(b)
}

// value converts a literal to the Go value bound for a column of type typ.
func value(o Operand, typ Type) (any, error) {
	wrong := func() error {
		return &Error{o.Position(), fmt.Sprintf("%s is not a valid %s value", o.String(), typ)}
	}
	switch typ {
	case String:
		if s, ok := o.(StringLit); ok {
			return s.V, nil
		}
	case Integer, Number:
		if n, ok := o.(NumberLit); ok {
			if n.Int {
				return int64(n.V), nil
			}
			return n.V, nil
		}
	case Date:
		switch l := o.(type) {
		case DateLit:
			return l.V.Format("2006-01-02"), nil
		case TimestampLit:
			return l.V.Format("2006-01-02"), nil
		case StringLit:
			// A quoted date compared with a date property, as GDAL and QGIS write it.
			if _, err := time.Parse("2006-01-02", l.V); err == nil {
				return l.V, nil
			}
		}
	case DateTime:
		switch l := o.(type) {
		case DateLit:
			return l.V.Format("2006-01-02") + "T00:00:00Z", nil
		case TimestampLit:
			return l.V.Format("2006-01-02T15:04:05Z"), nil
		}
	}
	return nil, wrong()
}

// likeToGlob turns a CQL2 LIKE pattern (% any run, _ one character, \ escapes
// the next character) into a SQLite GLOB pattern, which is case-sensitive.
func likeToGlob(p string) string {
	var b strings.Builder
	esc := false
	for _, r := range p {
		switch {
		case esc:
			esc = false
			b.WriteString(globLiteral(r))
		case r == '\\':
			esc = true
		case r == '%':
			b.WriteByte('*')
		case r == '_':
			b.WriteByte('?')
		default:
			b.WriteString(globLiteral(r))
		}
	}
	if esc {
		b.WriteString(globLiteral('\\'))
	}
	return b.String()
}

// globLiteral is r matched literally by GLOB.
func globLiteral(r rune) string {
	switch r {
	case '*', '?', '[':
		return "[" + string(r) + "]"
	}
	return string(r)
}
