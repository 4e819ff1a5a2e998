package cql2

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// Type is the kind of value a property or an operand holds.
type Type int

// The value types of CQL2 properties and operands.
const (
	String       Type = iota // text
	Integer                  // whole number
	Number                   // any number
	Boolean                  // true or false
	Date                     // calendar date (an instant with the granularity of a day)
	DateTime                 // instant to the second or finer
	GeometryType             // a geometry: the features' (property) or a literal
	IntervalType             // an INTERVAL
	ArrayType                // a list of values
)

// String names the type in error messages.
func (t Type) String() string {
	return [...]string{"text", "integer", "number", "boolean", "date", "date-time", "geometry", "interval", "array"}[t]
}

// Props are the properties a filter may name, with their types.
type Props map[string]Type

func (ps Props) lookup(p Property) (Type, error) {
	t, ok := ps[p.Name]
	if !ok {
		names := make([]string, 0, len(ps))
		for n := range ps {
			names = append(names, n)
		}
		sort.Strings(names)
		return 0, &Error{p.Pos, fmt.Sprintf("unknown property %q; the queryables are: %s", p.Name, strings.Join(names, ", "))}
	}
	return t, nil
}

// Check validates e against the properties: every property exists, every
// comparison compares values of one kind, and every function is one this
// package defines for those kinds. Its errors are *Error values naming the
// position and, for what is not supported, the part of CQL2 refused. A tree
// that passes can be translated without further checks (see TypeOf).
func Check(e Expr, props Props) error {
	c := checker{props}
	return c.expr(e)
}

type checker struct{ props Props }

func (c checker) expr(e Expr) error {
	switch e := e.(type) {
	case And:
		if err := c.expr(e.L); err != nil {
			return err
		}
		return c.expr(e.R)
	case Or:
		if err := c.expr(e.L); err != nil {
			return err
		}
		return c.expr(e.R)
	case Not:
		return c.expr(e.X)
	case BoolLit:
		return nil
	case Compare:
		_, err := c.common(e.L, e.R)
		return err
	case Like:
		typ, err := c.common(e.X, e.Pattern)
		if err != nil {
			return err
		}
		if typ != String {
			return &Error{e.X.Position(), "LIKE compares text, not " + typ.String()}
		}
		return nil
	case In:
		_, err := c.common(append([]Operand{e.X}, e.List...)...)
		return err
	case Between:
		typ, err := c.common(e.X, e.Lo, e.Hi)
		if err != nil {
			return err
		}
		if typ != Integer && typ != Number && typ != Date && typ != DateTime {
			return &Error{e.X.Position(), "BETWEEN compares numbers or dates, not " + typ.String()}
		}
		return nil
	case IsNull:
		if _, ok := e.X.(Property); !ok {
			return &Error{e.X.Position(), "IS NULL takes a property"}
		}
		_, err := c.typeOf(e.X)
		return err
	case Spatial:
		return c.spatial(e)
	case Temporal:
		return c.temporal(e)
	case Array:
		return &Error{e.Pos, e.Op + " is not supported: array functions need an array property, and no queryable is an array"}
	}
	return &Error{0, fmt.Sprintf("unsupported expression %T", e)}
}

// IsPatternLiteral reports whether a LIKE pattern is a literal (a quoted
// text, or CASEI/ACCENTI of one), which an engine may compile once; any
// other text operand (a property, say) is a pattern evaluated per feature.
func IsPatternLiteral(o Operand) bool {
	switch o := o.(type) {
	case StringLit:
		return true
	case Func:
		return (o.Name == "CASEI" || o.Name == "ACCENTI") && len(o.Args) == 1 && IsPatternLiteral(o.Args[0])
	}
	return false
}

func (c checker) spatial(e Spatial) error {
	props := 0
	for _, o := range []Operand{e.A, e.B} {
		switch o := o.(type) {
		case Property:
			t, err := c.props.lookup(o)
			if err != nil {
				return err
			}
			if t != GeometryType {
				return &Error{o.Pos, fmt.Sprintf("%s needs a geometry, and %s is %s", e.Op, o.Name, t)}
			}
			props++
		case Geometry:
			if _, ok := o.G.(orb.Collection); ok && e.Op != "S_INTERSECTS" && e.Op != "S_DISJOINT" {
				return &Error{o.Pos, e.Op + " with a GEOMETRYCOLLECTION is not supported (S_INTERSECTS and S_DISJOINT are)"}
			}
		default:
			return &Error{o.Position(), fmt.Sprintf("%s compares geometries: the geometry property and a geometry literal (POINT, LINESTRING, POLYGON, MULTI…, BBOX)", e.Op)}
		}
	}
	if props == 0 {
		return &Error{e.Pos, e.Op + " of two literals is not supported: one argument must be the geometry property"}
	}
	return nil
}

func (c checker) temporal(e Temporal) error {
	for _, o := range []Operand{e.A, e.B} {
		switch o := o.(type) {
		case DateLit, TimestampLit:
		case Property:
			if err := c.temporalProp(e.Op, o); err != nil {
				return err
			}
		case Interval:
			for _, end := range []Operand{o.Start, o.End} {
				if p, ok := end.(Property); ok {
					if err := c.temporalProp(e.Op, p); err != nil {
						return err
					}
				}
			}
		default:
			return &Error{o.Position(), fmt.Sprintf("%s compares instants or intervals: a date or date-time property, DATE(…), TIMESTAMP(…) or INTERVAL(…)", e.Op)}
		}
	}
	return nil
}

func (c checker) temporalProp(op string, p Property) error {
	t, err := c.props.lookup(p)
	if err != nil {
		return err
	}
	if t != Date && t != DateTime {
		return &Error{p.Pos, fmt.Sprintf("%s needs a date or date-time, and %s is %s", op, p.Name, t)}
	}
	return nil
}

// common is the type operands are compared as, refusing operands of
// different kinds. A quoted date compared with a date property is a date (as
// GDAL and QGIS write it).
func (c checker) common(ops ...Operand) (Type, error) {
	types := make([]Type, len(ops))
	for i, o := range ops {
		t, err := c.typeOf(o)
		if err != nil {
			return 0, err
		}
		if t == GeometryType || t == IntervalType || t == ArrayType {
			return 0, &Error{o.Position(), fmt.Sprintf("%s is %s; compare it with the S_ or T_ functions", o.String(), articled(t))}
		}
		types[i] = t
	}
	first := types[0]
	for i, t := range types {
		if _, isProp := ops[i].(Property); isProp {
			first = t
			break
		}
	}
	for i, t := range types {
		if compatible(first, t) {
			continue
		}
		if s, ok := ops[i].(StringLit); ok && (first == Date || first == DateTime) {
			if _, err := time.Parse("2006-01-02", s.V); err == nil {
				continue
			}
		}
		return 0, &Error{ops[i].Position(), fmt.Sprintf("%s is not a valid %s value", ops[i].String(), first)}
	}
	return first, nil
}

func articled(t Type) string {
	if t == IntervalType || t == ArrayType {
		return "an " + t.String()
	}
	return "a " + t.String()
}

func compatible(a, b Type) bool {
	num := func(t Type) bool { return t == Integer || t == Number }
	day := func(t Type) bool { return t == Date || t == DateTime }
	return a == b || num(a) && num(b) || day(a) && day(b)
}

func (c checker) typeOf(o Operand) (Type, error) { return TypeOf(o, c.props) }

// TypeOf is the type of an operand, or an *Error when the operand is not
// valid (an unknown property, a function other than CASEI and ACCENTI,
// arithmetic on anything but numbers).
func TypeOf(o Operand, props Props) (Type, error) {
	switch o := o.(type) {
	case Property:
		return props.lookup(o)
	case StringLit:
		return String, nil
	case NumberLit:
		if o.Int {
			return Integer, nil
		}
		return Number, nil
	case BoolLit:
		return Boolean, nil
	case DateLit:
		return Date, nil
	case TimestampLit:
		return DateTime, nil
	case Interval:
		return IntervalType, nil
	case Geometry:
		return GeometryType, nil
	case ArrayLit:
		return ArrayType, nil
	case Func:
		if o.Name != "CASEI" && o.Name != "ACCENTI" {
			return 0, &Error{o.Pos, fmt.Sprintf("function %s is not supported (this server knows CASEI and ACCENTI)", o.Name)}
		}
		if len(o.Args) != 1 {
			return 0, &Error{o.Pos, fmt.Sprintf("%s takes one text, not %d arguments", o.Name, len(o.Args))}
		}
		t, err := TypeOf(o.Args[0], props)
		if err != nil {
			return 0, err
		}
		if t != String {
			return 0, &Error{o.Args[0].Position(), fmt.Sprintf("%s takes text, not %s", o.Name, t)}
		}
		return String, nil
	case Arith:
		l, err := TypeOf(o.L, props)
		if err != nil {
			return 0, err
		}
		r, err := TypeOf(o.R, props)
		if err != nil {
			return 0, err
		}
		for _, side := range []struct {
			t Type
			o Operand
		}{{l, o.L}, {r, o.R}} {
			if side.t != Integer && side.t != Number {
				return 0, &Error{side.o.Position(), fmt.Sprintf("arithmetic takes numbers, and %s is %s", side.o.String(), side.t)}
			}
		}
		if l == Integer && r == Integer && slices.Contains([]string{"+", "-", "*", "%", "DIV"}, o.Op) {
			return Integer, nil
		}
		return Number, nil
	}
	return 0, &Error{o.Position(), fmt.Sprintf("unsupported operand %T", o)}
}

// MapGeometries returns e with every geometry literal replaced by what fn
// makes of it (or fn's error), so that a caller who knows the filter-crs can
// validate and transform the literals before translation.
func MapGeometries(e Expr, fn func(Geometry) (Geometry, error)) (Expr, error) {
	switch x := e.(type) {
	case And:
		l, err := MapGeometries(x.L, fn)
		if err != nil {
			return nil, err
		}
		r, err := MapGeometries(x.R, fn)
		return And{l, r}, err
	case Or:
		l, err := MapGeometries(x.L, fn)
		if err != nil {
			return nil, err
		}
		r, err := MapGeometries(x.R, fn)
		return Or{l, r}, err
	case Not:
		y, err := MapGeometries(x.X, fn)
		return Not{y}, err
	case Spatial:
		var err error
		for _, o := range []*Operand{&x.A, &x.B} {
			if g, ok := (*o).(Geometry); ok {
				if *o, err = fn(g); err != nil {
					return nil, err
				}
			}
		}
		return x, nil
	}
	return e, nil
}
