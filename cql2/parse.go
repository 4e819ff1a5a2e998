package cql2

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Expr is a boolean expression: And, Or, Not, Compare, Like, In, Between,
// IsNull, Intersects or BoolLit.
type Expr interface {
	String() string // CQL2 text that parses back to the same tree
	isExpr()
}

// Operand is a value in a predicate: Property, StringLit, NumberLit, BoolLit,
// DateLit or TimestampLit.
type Operand interface {
	String() string
	Position() int // where it starts in the text
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
	// Intersects is S_INTERSECTS(Prop, BBOX(...)): the geometry lies in Box.
	Intersects struct {
		Prop Property
		Box  [4]float64 // minLon, minLat, maxLon, maxLat
	}
)

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
	// DateLit is DATE('YYYY-MM-DD').
	DateLit struct {
		V   time.Time
		Pos int
	}
	// TimestampLit is TIMESTAMP('RFC 3339 date-time'), in UTC.
	TimestampLit struct {
		V   time.Time
		Pos int
	}
)

func (And) isExpr()        {}
func (Or) isExpr()         {}
func (Not) isExpr()        {}
func (Compare) isExpr()    {}
func (Like) isExpr()       {}
func (In) isExpr()         {}
func (Between) isExpr()    {}
func (IsNull) isExpr()     {}
func (Intersects) isExpr() {}
func (BoolLit) isExpr()    {}

func (Property) isOperand()     {}
func (StringLit) isOperand()    {}
func (NumberLit) isOperand()    {}
func (BoolLit) isOperand()      {}
func (DateLit) isOperand()      {}
func (TimestampLit) isOperand() {}

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
	parts := make([]string, len(e.List))
	for i, o := range e.List {
		parts[i] = o.String()
	}
	return e.X.String() + not(e.Negated) + " IN (" + strings.Join(parts, ", ") + ")"
}

// String is the CQL2 text of the Between.
func (e Between) String() string {
	return e.X.String() + not(e.Negated) + " BETWEEN " + e.Lo.String() + " AND " + e.Hi.String()
}

// String is the CQL2 text of the IsNull.
func (e IsNull) String() string { return e.X.String() + " IS" + not(e.Negated) + " NULL" }

// String is the CQL2 text of the Intersects.
func (e Intersects) String() string {
	return fmt.Sprintf("S_INTERSECTS(%s, BBOX(%s, %s, %s, %s))", e.Prop.String(),
		num(e.Box[0]), num(e.Box[1]), num(e.Box[2]), num(e.Box[3]))
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
func (n NumberLit) String() string { return num(n.V) }

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

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 64

type parser struct {
	toks  []token
	i     int
	depth int
}

// Parse parses CQL2 text into an expression. Errors are *Error values that
// name the character position of the fault.
func Parse(s string) (Expr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 {
		return nil, &Error{0, "the filter is empty"}
	}
	p := &parser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t, "AND, OR or the end of the filter")
	}
	return e, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// word reports whether t is the keyword kw (case-insensitive).
func word(t token, kw string) bool { return t.kind == tokIdent && strings.EqualFold(t.text, kw) }

func (p *parser) acceptWord(kw string) bool {
	if word(p.peek(), kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op string) error {
	t := p.next()
	if t.kind != tokOp || t.text != op {
		return p.unexpected(t, "'"+op+"'")
	}
	return nil
}

func (p *parser) unexpected(t token, want string) error {
	if t.kind == tokEOF {
		return &Error{t.pos, "the filter ends where " + want + " was expected"}
	}
	return &Error{t.pos, fmt.Sprintf("found %q where %s was expected", t.text, want)}
}

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.acceptWord("OR") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = Or{l, r}
	}
	return l, nil
}

func (p *parser) and() (Expr, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.acceptWord("AND") {
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = And{l, r}
	}
	return l, nil
}

func (p *parser) not() (Expr, error) {
	if p.acceptWord("NOT") {
		if p.depth++; p.depth > maxDepth {
			return nil, &Error{p.peek().pos, fmt.Sprintf("the filter nests deeper than %d levels", maxDepth)}
		}
		defer func() { p.depth-- }()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return Not{x}, nil
	}
	return p.predicate()
}

func (p *parser) predicate() (Expr, error) {
	t := p.peek()
	if t.kind == tokOp && t.text == "(" {
		p.i++
		if p.depth++; p.depth > maxDepth {
			return nil, &Error{t.pos, fmt.Sprintf("the filter nests deeper than %d levels", maxDepth)}
		}
		e, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		return e, p.expectOp(")")
	}
	if t.kind == tokEOF {
		return nil, p.unexpected(t, "a condition")
	}
	// t is not the end, so a token follows it.
	after := p.toks[p.i+1]
	if word(t, "S_INTERSECTS") && after.kind == tokOp && after.text == "(" {
		return p.intersects()
	}
	if isWord(t, "TRUE", "FALSE") && (after.kind == tokEOF || after.kind == tokOp && after.text == ")" || isWord(after, "AND", "OR")) {
		p.i++
		return BoolLit{V: word(t, "TRUE"), Pos: t.pos}, nil
	}
	x, err := p.operand()
	if err != nil {
		return nil, err
	}
	t = p.next()
	if t.kind == tokOp {
		switch t.text {
		case "=", "<>", "<", "<=", ">", ">=":
			r, err := p.operand()
			if err != nil {
				return nil, err
			}
			return Compare{Op: t.text, L: x, R: r}, nil
		}
		return nil, p.unexpected(t, "a comparison operator, LIKE, IN, BETWEEN or IS")
	}
	negated := false
	if word(t, "NOT") {
		negated = true
		t = p.next()
	}
	switch {
	case word(t, "LIKE"):
		pat, err := p.operand()
		if err != nil {
			return nil, err
		}
		return Like{X: x, Pattern: pat, Negated: negated}, nil
	case word(t, "BETWEEN"):
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if t := p.next(); !word(t, "AND") {
			return nil, p.unexpected(t, "AND (of BETWEEN … AND …)")
		}
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return Between{X: x, Lo: lo, Hi: hi, Negated: negated}, nil
	case word(t, "IN"):
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		var list []Operand
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			list = append(list, o)
			if t := p.next(); t.text == ")" && t.kind == tokOp {
				break
			} else if t.kind != tokOp || t.text != "," {
				return nil, p.unexpected(t, "',' or ')' in the IN list")
			}
		}
		return In{X: x, List: list, Negated: negated}, nil
	case word(t, "IS") && !negated:
		n := p.acceptWord("NOT")
		if t := p.next(); !word(t, "NULL") {
			return nil, p.unexpected(t, "NULL")
		}
		return IsNull{X: x, Negated: n}, nil
	}
	if negated {
		return nil, p.unexpected(t, "LIKE, BETWEEN or IN after NOT")
	}
	return nil, p.unexpected(t, "a comparison operator, LIKE, IN, BETWEEN or IS")
}

func isWord(t token, kws ...string) bool {
	for _, k := range kws {
		if word(t, k) {
			return true
		}
	}
	return false
}

// keywords cannot be bare property names; quote them ("in") to use one.
var keywords = []string{"AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS", "NULL"}

func (p *parser) operand() (Operand, error) {
	t := p.next()
	switch t.kind {
	case tokQuoted:
		return Property{Name: t.text, Pos: t.pos}, nil
	case tokString:
		return StringLit{V: t.text, Pos: t.pos}, nil
	case tokNumber:
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, &Error{t.pos, fmt.Sprintf("%q is not a number", t.text)}
		}
		isInt := !strings.ContainsAny(t.text, ".eE") && math.Abs(v) < 1<<53
		return NumberLit{V: v, Int: isInt, Pos: t.pos}, nil
	case tokIdent:
		switch {
		case word(t, "TRUE"), word(t, "FALSE"):
			return BoolLit{V: word(t, "TRUE"), Pos: t.pos}, nil
		case word(t, "DATE"), word(t, "TIMESTAMP"):
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			s := p.next()
			if s.kind != tokString {
				return nil, p.unexpected(s, "a quoted date")
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			if word(t, "DATE") {
				d, err := time.Parse("2006-01-02", s.text)
				if err != nil {
					return nil, &Error{s.pos, fmt.Sprintf("DATE(%q) is not a date YYYY-MM-DD", s.text)}
				}
				return DateLit{V: d, Pos: t.pos}, nil
			}
			ts, err := time.Parse(time.RFC3339Nano, s.text)
			if err != nil {
				return nil, &Error{s.pos, fmt.Sprintf("TIMESTAMP(%q) is not an RFC 3339 date-time", s.text)}
			}
			return TimestampLit{V: ts.UTC(), Pos: t.pos}, nil
		}
		if isWord(t, keywords...) {
			return nil, &Error{t.pos, fmt.Sprintf("found %s where a property or a value was expected", strings.ToUpper(t.text))}
		}
		if p.peek().kind == tokOp && p.peek().text == "(" {
			return nil, &Error{t.pos, fmt.Sprintf("function %s is not supported (Basic CQL2: DATE, TIMESTAMP, S_INTERSECTS with BBOX)", t.text)}
		}
		return Property{Name: t.text, Pos: t.pos}, nil
	}
	return nil, p.unexpected(t, "a property or a value")
}

// intersects parses S_INTERSECTS(property, BBOX(…)) or with the arguments swapped.
func (p *parser) intersects() (Expr, error) {
	p.i++ // S_INTERSECTS
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var prop *Property
	var box *[4]float64
	for k := 0; k < 2; k++ {
		if k == 1 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		t := p.peek()
		if isWord(t, "BBOX", "ENVELOPE") && box == nil {
			b, err := p.bbox()
			if err != nil {
				return nil, err
			}
			box = &b
			continue
		}
		if isWord(t, "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION") {
			return nil, &Error{t.pos, fmt.Sprintf("%s literals are not supported; use BBOX(minLon, minLat, maxLon, maxLat)", strings.ToUpper(t.text))}
		}
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		pr, ok := o.(Property)
		if !ok || prop != nil {
			return nil, &Error{o.Position(), "S_INTERSECTS takes a geometry property and a BBOX"}
		}
		prop = &pr
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if prop == nil || box == nil {
		return nil, &Error{p.peek().pos, "S_INTERSECTS takes a geometry property and a BBOX"}
	}
	return Intersects{Prop: *prop, Box: *box}, nil
}

// bbox parses BBOX(minLon, minLat, maxLon, maxLat) (or 6 numbers with heights,
// which are ignored). ENVELOPE is read as BBOX, in the same order.
func (p *parser) bbox() ([4]float64, error) {
	kw := p.next()
	if err := p.expectOp("("); err != nil {
		return [4]float64{}, err
	}
	var nums []float64
	for {
		o, err := p.operand()
		if err != nil {
			return [4]float64{}, err
		}
		n, ok := o.(NumberLit)
		if !ok {
			return [4]float64{}, &Error{o.Position(), "BBOX takes numbers"}
		}
		nums = append(nums, n.V)
		t := p.next()
		if t.kind == tokOp && t.text == ")" {
			break
		}
		if t.kind != tokOp || t.text != "," {
			return [4]float64{}, p.unexpected(t, "',' or ')' in BBOX")
		}
	}
	var b [4]float64
	switch len(nums) {
	case 4:
		copy(b[:], nums)
	case 6:
		b = [4]float64{nums[0], nums[1], nums[3], nums[4]}
	default:
		return b, &Error{kw.pos, fmt.Sprintf("BBOX takes 4 or 6 numbers, not %d", len(nums))}
	}
	if b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 || b[0] > b[2] || b[1] > b[3] {
		return b, &Error{kw.pos, fmt.Sprintf("BBOX(%s, %s, %s, %s) is not a box of longitudes -180..180 and latitudes -90..90 with minimum before maximum",
			num(b[0]), num(b[1]), num(b[2]), num(b[3]))}
	}
	return b, nil
}
