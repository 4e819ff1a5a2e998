package cql2

import (
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

// The syntax tree. Both encodings (Parse for CQL2 text, ParseJSON for CQL2
// JSON) produce it, and it knows no storage: an engine translates it into its
// own query language (the SQLite store in package store; a PostGIS engine the
// same way). Check validates a tree against a collection's properties, so a
// translator may assume the types it is given agree.
//
// Expr is a predicate (true or false for a feature); Operand is a value in
// one. Names of operators and functions are kept upper case, as CQL2 text
// writes them, whichever encoding they came from.

// Expr is a boolean expression: And, Or, Not, Compare, Like, In, Between,
// IsNull, Spatial, Temporal, Array or BoolLit.
type Expr interface {
	String() string // CQL2 text that parses back to the same tree
	isExpr()
}

// Operand is a value in a predicate: Property, StringLit, NumberLit, BoolLit,
// DateLit, TimestampLit, Interval, Geometry, Func, Arith or ArrayLit.
type Operand interface {
	String() string
	Position() int // where it starts in the text (0 for CQL2 JSON)
	isOperand()
}

type (
	// And is true when both sides are.
	And struct{ L, R Expr }
	// Or is true when either side is.
	Or struct{ L, R Expr }
	// Not negates X.
	Not struct{ X Expr }
	// Compare is L Op R with Op one of = <> < <= > >=.
	Compare struct {
		Op   string
		L, R Operand
	}
	// Like matches X against a pattern (% any run, _ one character, \ escapes).
	// Pattern is a StringLit, or CASEI/ACCENTI of one.
	Like struct {
		X, Pattern Operand
		Negated    bool
	}
	// In is true when X equals one of List.
	In struct {
		X       Operand
		List    []Operand
		Negated bool
	}
	// Between is Lo <= X <= Hi.
	Between struct {
		X, Lo, Hi Operand
		Negated   bool
	}
	// IsNull is true when X has no value.
	IsNull struct {
		X       Operand
		Negated bool
	}
	// Spatial is a spatial comparison function of CQL2 (Op is one of
	// SpatialOps) between two geometries: a geometry property or a Geometry
	// literal each. A and B keep the order of the filter (S_WITHIN(A, B) is
	// "A within B").
	Spatial struct {
		Op   string
		A, B Operand
		Pos  int
	}
	// Temporal is a temporal comparison function of CQL2 (Op is one of
	// TemporalOps) between two instants or intervals: a date or date-time
	// property, a DateLit, a TimestampLit or an Interval each.
	Temporal struct {
		Op   string
		A, B Operand
		Pos  int
	}
	// Array is an array comparison function (A_EQUALS, A_CONTAINS,
	// A_CONTAINEDBY, A_OVERLAPS). It parses so that the refusal can name it;
	// Check refuses it, as no property here is an array.
	Array struct {
		Op   string
		A, B Operand
		Pos  int
	}
)

// SpatialOps are the spatial comparison functions, as CQL2 text names them.
var SpatialOps = []string{"S_INTERSECTS", "S_EQUALS", "S_DISJOINT", "S_TOUCHES", "S_WITHIN", "S_OVERLAPS", "S_CROSSES", "S_CONTAINS"}

// TemporalOps are the temporal comparison functions, as CQL2 text names them.
var TemporalOps = []string{"T_AFTER", "T_BEFORE", "T_CONTAINS", "T_DISJOINT", "T_DURING", "T_EQUALS", "T_FINISHEDBY",
	"T_FINISHES", "T_INTERSECTS", "T_MEETS", "T_METBY", "T_OVERLAPPEDBY", "T_OVERLAPS", "T_STARTEDBY", "T_STARTS"}

// ArrayOps are the array comparison functions.
var ArrayOps = []string{"A_EQUALS", "A_CONTAINS", "A_CONTAINEDBY", "A_OVERLAPS"}

type (
	// Property names a property of the features.
	Property struct {
		Name string
		Pos  int
	}
	// StringLit is a character literal.
	StringLit struct {
		V   string
		Pos int
	}
	// NumberLit is a numeric literal; Int reports it has no fraction or exponent.
	NumberLit struct {
		V   float64
		Int bool
		Pos int
	}
	// BoolLit is TRUE or FALSE; it is both an operand and an expression.
	BoolLit struct {
		V   bool
		Pos int
	}
	// DateLit is DATE('YYYY-MM-DD'): an instant with the granularity of a day.
	DateLit struct {
		V   time.Time
		Pos int
	}
	// TimestampLit is TIMESTAMP('RFC 3339 date-time'), in UTC.
	TimestampLit struct {
		V   time.Time
		Pos int
	}
	// Interval is INTERVAL(start, end). Each end is a DateLit, a
	// TimestampLit, a Property (of a date or date-time), or nil for an open
	// end ('..'). Both ends belong to the interval.
	Interval struct {
		Start, End Operand
		Pos        int
	}
	// Geometry is a geometry literal: a WKT geometry or a GeoJSON geometry
	// (orb.Point … orb.Collection), or BBOX(…) as an orb.Bound. Its
	// coordinates are x, y of CRS (the filter-crs); Z values are dropped.
	Geometry struct {
		G   orb.Geometry
		CRS string // URI of the coordinates' CRS; "" is CRS84
		Pos int
	}
	// Func is a function call: CASEI and ACCENTI (which Check accepts on
	// text), or any other name (which Check refuses, naming it).
	Func struct {
		Name string // upper case for CASEI and ACCENTI; as written otherwise
		Args []Operand
		Pos  int
	}
	// Arith is an arithmetic expression L Op R, Op one of + - * / % DIV ^.
	Arith struct {
		Op   string
		L, R Operand
		Pos  int
	}
	// ArrayLit is a list of values ('a', 'b'), the operand of array functions.
	ArrayLit struct {
		Items []Operand
		Pos   int
	}
)

func (And) isExpr()      {}
func (Or) isExpr()       {}
func (Not) isExpr()      {}
func (Compare) isExpr()  {}
func (Like) isExpr()     {}
func (In) isExpr()       {}
func (Between) isExpr()  {}
func (IsNull) isExpr()   {}
func (Spatial) isExpr()  {}
func (Temporal) isExpr() {}
func (Array) isExpr()    {}
func (BoolLit) isExpr()  {}

func (Property) isOperand()     {}
func (StringLit) isOperand()    {}
func (NumberLit) isOperand()    {}
func (BoolLit) isOperand()      {}
func (DateLit) isOperand()      {}
func (TimestampLit) isOperand() {}
func (Interval) isOperand()     {}
func (Geometry) isOperand()     {}
func (Func) isOperand()         {}
func (Arith) isOperand()        {}
func (ArrayLit) isOperand()     {}

// Position implements Operand.
func (p Property) Position() int { return p.Pos }

// Position implements Operand.
func (s StringLit) Position() int { return s.Pos }

// Position implements Operand.
func (n NumberLit) Position() int { return n.Pos }

// Position implements Operand.
func (b BoolLit) Position() int { return b.Pos }

// Position implements Operand.
func (d DateLit) Position() int { return d.Pos }

// Position implements Operand.
func (t TimestampLit) Position() int { return t.Pos }

// Position implements Operand.
func (i Interval) Position() int { return i.Pos }

// Position implements Operand.
func (g Geometry) Position() int { return g.Pos }

// Position implements Operand.
func (f Func) Position() int { return f.Pos }

// Position implements Operand.
func (a Arith) Position() int { return a.Pos }

// Position implements Operand.
func (a ArrayLit) Position() int { return a.Pos }

// String is the CQL2 text of the And.
func (e And) String() string { return "(" + e.L.String() + " AND " + e.R.String() + ")" }

// String is the CQL2 text of the Or.
func (e Or) String() string { return "(" + e.L.String() + " OR " + e.R.String() + ")" }

// String is the CQL2 text of the Not.
func (e Not) String() string { return "NOT (" + e.X.String() + ")" }

// String is the CQL2 text of the Compare.
func (e Compare) String() string { return e.L.String() + " " + e.Op + " " + e.R.String() }

// String is the CQL2 text of the Like.
func (e Like) String() string { return e.X.String() + not(e.Negated) + " LIKE " + e.Pattern.String() }

// String is the CQL2 text of the In.
func (e In) String() string {
	return e.X.String() + not(e.Negated) + " IN (" + joinOperands(e.List) + ")"
}

// String is the CQL2 text of the Between.
func (e Between) String() string {
	return e.X.String() + not(e.Negated) + " BETWEEN " + e.Lo.String() + " AND " + e.Hi.String()
}

// String is the CQL2 text of the IsNull.
func (e IsNull) String() string { return e.X.String() + " IS" + not(e.Negated) + " NULL" }

// String is the CQL2 text of the Spatial.
func (e Spatial) String() string { return e.Op + "(" + e.A.String() + ", " + e.B.String() + ")" }

// String is the CQL2 text of the Temporal.
func (e Temporal) String() string { return e.Op + "(" + e.A.String() + ", " + e.B.String() + ")" }

// String is the CQL2 text of the Array.
func (e Array) String() string { return e.Op + "(" + e.A.String() + ", " + e.B.String() + ")" }

func joinOperands(list []Operand) string {
	parts := make([]string, len(list))
	for i, o := range list {
		parts[i] = o.String()
	}
	return strings.Join(parts, ", ")
}

func not(n bool) string {
	if n {
		return " NOT"
	}
	return ""
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// String is the CQL2 text of the Property.
func (p Property) String() string { return `"` + strings.ReplaceAll(p.Name, `"`, `""`) + `"` }

// String is the CQL2 text of the StringLit.
func (s StringLit) String() string { return "'" + strings.ReplaceAll(s.V, "'", "''") + "'" }

// String is the CQL2 text of the NumberLit.
func (n NumberLit) String() string {
	if n.Int {
		return strconv.FormatInt(int64(n.V), 10)
	}
	s := num(n.V)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0" // stays a non-integer when parsed back
	}
	return s
}

// String is the CQL2 text of the BoolLit.
func (b BoolLit) String() string {
	if b.V {
		return "TRUE"
	}
	return "FALSE"
}

// String is the CQL2 text of the DateLit.
func (d DateLit) String() string { return "DATE('" + d.V.Format("2006-01-02") + "')" }

// String is the CQL2 text of the TimestampLit.
func (t TimestampLit) String() string {
	return "TIMESTAMP('" + t.V.Format(time.RFC3339Nano) + "')"
}

// String is the CQL2 text of the Interval.
func (i Interval) String() string {
	return "INTERVAL(" + intervalEnd(i.Start) + ", " + intervalEnd(i.End) + ")"
}

// intervalEnd writes an interval's end as CQL2 text: a quoted instant, a
// property, or '..'.
func intervalEnd(o Operand) string {
	switch v := o.(type) {
	case nil:
		return "'..'"
	case DateLit:
		return "'" + v.V.Format("2006-01-02") + "'"
	case TimestampLit:
		return "'" + v.V.Format(time.RFC3339Nano) + "'"
	}
	return o.String()
}

// String is the CQL2 text of the Geometry: WKT, or BBOX(…) for a bound.
func (g Geometry) String() string {
	if b, ok := g.G.(orb.Bound); ok {
		return "BBOX(" + num(b.Min[0]) + ", " + num(b.Min[1]) + ", " + num(b.Max[0]) + ", " + num(b.Max[1]) + ")"
	}
	return wkt.MarshalString(g.G)
}

// String is the CQL2 text of the Func.
func (f Func) String() string { return f.Name + "(" + joinOperands(f.Args) + ")" }

// String is the CQL2 text of the Arith.
func (a Arith) String() string {
	op := a.Op
	if op == "DIV" {
		op = "div"
	}
	return "(" + a.L.String() + " " + op + " " + a.R.String() + ")"
}

// String is the CQL2 text of the ArrayLit.
func (a ArrayLit) String() string { return "(" + joinOperands(a.Items) + ")" }
