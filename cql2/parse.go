package cql2

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 64

type parser struct {
	toks  []token
	i     int
	depth int
	crs   string // CRS of geometry literals
}

// Parse parses CQL2 text into an expression, geometry literals in CRS84.
// Errors are *Error values that name the character position of the fault.
func Parse(s string) (Expr, error) { return ParseCRS(s, "") }

// ParseCRS is Parse with geometry literals in the CRS named by the URI crs
// (the filter-crs parameter); "" is CRS84. The coordinates are kept as given:
// the caller, who knows the CRS, validates and transforms them.
func ParseCRS(s, crs string) (Expr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 {
		return nil, &Error{0, "the filter is empty"}
	}
	p := &parser{toks: toks, crs: crs}
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
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// word reports whether t is the keyword kw (case-insensitive).
func word(t token, kw string) bool { return t.kind == tokIdent && strings.EqualFold(t.text, kw) }

func isOp(t token, op string) bool { return t.kind == tokOp && t.text == op }

func isWord(t token, kws ...string) bool {
	for _, k := range kws {
		if word(t, k) {
			return true
		}
	}
	return false
}

func (p *parser) acceptWord(kw string) bool {
	if word(p.peek(), kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op string) error {
	t := p.next()
	if !isOp(t, op) {
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

func (p *parser) enter(pos int) error {
	if p.depth++; p.depth > maxDepth {
		return &Error{pos, fmt.Sprintf("the filter nests deeper than %d levels", maxDepth)}
	}
	return nil
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
		if err := p.enter(p.peek().pos); err != nil {
			return nil, err
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

// endsPredicate reports whether t can follow a whole predicate.
func endsPredicate(t token) bool {
	return t.kind == tokEOF || isOp(t, ")") || isWord(t, "AND", "OR")
}

func (p *parser) predicate() (Expr, error) {
	t := p.peek()
	if isOp(t, "(") {
		// A parenthesis opens either a group of predicates or an arithmetic
		// operand ("(a + 1) > 2"): try the group, and read an operand if the
		// group is not followed by what may end a predicate.
		start := p.i
		p.i++
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		e, err := p.or()
		p.depth--
		if err == nil {
			if err = p.expectOp(")"); err == nil && endsPredicate(p.peek()) {
				return e, nil
			}
		}
		groupErr := err
		p.i = start
		if e, err := p.comparison(); err == nil {
			return e, nil
		}
		if groupErr == nil {
			groupErr = p.unexpected(p.peek(), "AND, OR or ')'")
		}
		return nil, groupErr
	}
	if t.kind == tokEOF {
		return nil, p.unexpected(t, "a condition")
	}
	after := p.peekAt(1)
	if t.kind == tokIdent && isOp(after, "(") {
		name := strings.ToUpper(t.text)
		switch {
		case slices.Contains(SpatialOps, name), slices.Contains(TemporalOps, name), slices.Contains(ArrayOps, name):
			return p.function2(name)
		}
	}
	if isWord(t, "TRUE", "FALSE") && endsPredicate(after) {
		p.i++
		return BoolLit{V: word(t, "TRUE"), Pos: t.pos}, nil
	}
	return p.comparison()
}

// function2 reads a two-argument spatial, temporal or array function.
func (p *parser) function2(name string) (Expr, error) {
	t := p.next()
	p.next() // (
	a, err := p.arith()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(","); err != nil {
		return nil, err
	}
	b, err := p.arith()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	switch {
	case slices.Contains(SpatialOps, name):
		return Spatial{Op: name, A: a, B: b, Pos: t.pos}, nil
	case slices.Contains(TemporalOps, name):
		return Temporal{Op: name, A: a, B: b, Pos: t.pos}, nil
	}
	return Array{Op: name, A: a, B: b, Pos: t.pos}, nil
}

// comparison reads operand-based predicates: comparisons, LIKE, BETWEEN, IN
// and IS NULL.
func (p *parser) comparison() (Expr, error) {
	x, err := p.arith()
	if err != nil {
		return nil, err
	}
	t := p.next()
	if t.kind == tokOp {
		switch t.text {
		case "=", "<>", "<", "<=", ">", ">=":
			r, err := p.arith()
			if err != nil {
				return nil, err
			}
			return Compare{Op: t.text, L: x, R: r}, nil
		}
		return nil, p.unexpected(t, "a comparison operator, LIKE, IN, BETWEEN or IS")
	}
	if endsPredicate(t) {
		if f, ok := x.(Func); ok {
			return nil, &Error{f.Pos, fmt.Sprintf("function %s is not supported (this server knows CASEI and ACCENTI, and the S_, T_ functions as predicates)", f.Name)}
		}
	}
	negated := false
	if word(t, "NOT") {
		negated = true
		t = p.next()
	}
	switch {
	case word(t, "LIKE"):
		pat, err := p.arith()
		if err != nil {
			return nil, err
		}
		return Like{X: x, Pattern: pat, Negated: negated}, nil
	case word(t, "BETWEEN"):
		lo, err := p.arith()
		if err != nil {
			return nil, err
		}
		if t := p.next(); !word(t, "AND") {
			return nil, p.unexpected(t, "AND (of BETWEEN … AND …)")
		}
		hi, err := p.arith()
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
			o, err := p.arith()
			if err != nil {
				return nil, err
			}
			list = append(list, o)
			if t := p.next(); isOp(t, ")") {
				break
			} else if !isOp(t, ",") {
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

// keywords cannot be bare property names; quote them ("in") to use one.
var keywords = []string{"AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS", "NULL", "DIV"}

// arith reads an arithmetic expression: terms joined by + and -.
func (p *parser) arith() (Operand, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); isOp(t, "+") || isOp(t, "-"); t = p.peek() {
		p.i++
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = Arith{Op: t.text, L: l, R: r, Pos: l.Position()}
	}
	return l, nil
}

// term reads factors joined by *, /, % and div.
func (p *parser) term() (Operand, error) {
	l, err := p.power()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); isOp(t, "*") || isOp(t, "/") || isOp(t, "%") || word(t, "DIV"); t = p.peek() {
		p.i++
		r, err := p.power()
		if err != nil {
			return nil, err
		}
		l = Arith{Op: strings.ToUpper(t.text), L: l, R: r, Pos: l.Position()}
	}
	return l, nil
}

// power reads a ^ b (right-associative).
func (p *parser) power() (Operand, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); isOp(t, "^") {
		p.i++
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		r, err := p.power()
		p.depth--
		if err != nil {
			return nil, err
		}
		return Arith{Op: "^", L: l, R: r, Pos: l.Position()}, nil
	}
	return l, nil
}

// unary reads a minus sign before an operand that is not a number ("-foo").
func (p *parser) unary() (Operand, error) {
	if t := p.peek(); isOp(t, "-") || isOp(t, "+") {
		p.i++
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		x, err := p.unary()
		p.depth--
		if err != nil {
			return nil, err
		}
		if t.text == "+" {
			return x, nil
		}
		return Arith{Op: "*", L: NumberLit{V: -1, Int: true, Pos: t.pos}, R: x, Pos: t.pos}, nil
	}
	return p.operand()
}

// geometryWords are the WKT geometry types.
var geometryWords = []string{"POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"}

func (p *parser) operand() (Operand, error) {
	t := p.next()
	switch t.kind {
	case tokQuoted:
		return Property{Name: t.text, Pos: t.pos}, nil
	case tokString:
		return StringLit{V: t.text, Pos: t.pos}, nil
	case tokNumber:
		return number(t)
	case tokOp:
		if t.text != "(" {
			break
		}
		// A parenthesised arithmetic operand, or a list of values (the
		// operand of an array function).
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		first, err := p.arith()
		if err != nil {
			return nil, err
		}
		if isOp(p.peek(), ")") {
			p.i++
			return first, nil
		}
		items := []Operand{first}
		for isOp(p.peek(), ",") {
			p.i++
			o, err := p.arith()
			if err != nil {
				return nil, err
			}
			items = append(items, o)
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return ArrayLit{Items: items, Pos: t.pos}, nil
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
			return instant(strings.ToUpper(t.text), s.text, t.pos, s.pos)
		case word(t, "INTERVAL"):
			return p.interval(t)
		case isWord(t, "BBOX", "ENVELOPE"):
			p.i--
			return p.bbox()
		case isWord(t, geometryWords...):
			p.i--
			g, err := p.wkt()
			if err != nil {
				return nil, err
			}
			return Geometry{G: g, CRS: p.crs, Pos: t.pos}, nil
		}
		if isWord(t, keywords...) {
			return nil, &Error{t.pos, fmt.Sprintf("found %s where a property or a value was expected", strings.ToUpper(t.text))}
		}
		if isOp(p.peek(), "(") {
			return p.call(t)
		}
		return Property{Name: t.text, Pos: t.pos}, nil
	}
	return nil, p.unexpected(t, "a property or a value")
}

// number reads a numeric literal.
func number(t token) (Operand, error) {
	v, err := strconv.ParseFloat(t.text, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return nil, &Error{t.pos, fmt.Sprintf("%q is not a number", t.text)}
	}
	isInt := !strings.ContainsAny(t.text, ".eE") && math.Abs(v) < 1<<53
	return NumberLit{V: v, Int: isInt, Pos: t.pos}, nil
}

// instant reads the text of DATE(…) or TIMESTAMP(…).
func instant(kind, s string, pos, spos int) (Operand, error) {
	if kind == "DATE" {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, &Error{spos, fmt.Sprintf("DATE(%q) is not a date YYYY-MM-DD", s)}
		}
		return DateLit{V: d, Pos: pos}, nil
	}
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, &Error{spos, fmt.Sprintf("TIMESTAMP(%q) is not an RFC 3339 date-time", s)}
	}
	return TimestampLit{V: ts.UTC(), Pos: pos}, nil
}

// intervalEndOf reads one end of an INTERVAL given as a quoted text: '..' is
// open, a date a DateLit, anything else must be an RFC 3339 date-time.
func intervalEndOf(s string, pos int) (Operand, error) {
	switch {
	case s == "..":
		return nil, nil
	case len(s) == len("2006-01-02"):
		return instant("DATE", s, pos, pos)
	}
	return instant("TIMESTAMP", s, pos, pos)
}

// interval reads INTERVAL(start, end).
func (p *parser) interval(kw token) (Operand, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var ends [2]Operand
	for k := range ends {
		if k == 1 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		if t := p.peek(); t.kind == tokString {
			p.i++
			e, err := intervalEndOf(t.text, t.pos)
			if err != nil {
				return nil, err
			}
			ends[k] = e
			continue
		}
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		switch o.(type) {
		case Property, DateLit, TimestampLit:
		default:
			return nil, &Error{o.Position(), "an INTERVAL end is a quoted date or date-time, '..', DATE(…), TIMESTAMP(…) or a property"}
		}
		ends[k] = o
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	return Interval{Start: ends[0], End: ends[1], Pos: kw.pos}, nil
}

// call reads a function call name(args…).
func (p *parser) call(name token) (Operand, error) {
	p.next() // (
	if err := p.enter(name.pos); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	f := Func{Name: name.text, Pos: name.pos}
	if isWord(name, "CASEI", "ACCENTI") {
		f.Name = strings.ToUpper(name.text)
	}
	if isOp(p.peek(), ")") {
		p.i++
		return f, nil
	}
	for {
		a, err := p.arith()
		if err != nil {
			return nil, err
		}
		f.Args = append(f.Args, a)
		t := p.next()
		if isOp(t, ")") {
			return f, nil
		}
		if !isOp(t, ",") {
			return nil, p.unexpected(t, "',' or ')' in the arguments of "+f.Name)
		}
	}
}

// bbox parses BBOX(minX, minY, maxX, maxY) (or 6 numbers with heights,
// which are dropped). ENVELOPE is read as BBOX, in the same order.
func (p *parser) bbox() (Operand, error) {
	kw := p.next()
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var nums []float64
	for {
		v, err := p.signedNumber()
		if err != nil {
			return nil, err
		}
		nums = append(nums, v)
		t := p.next()
		if isOp(t, ")") {
			break
		}
		if !isOp(t, ",") {
			return nil, p.unexpected(t, "',' or ')' in BBOX")
		}
	}
	var b [4]float64
	switch len(nums) {
	case 4:
		copy(b[:], nums)
	case 6:
		b = [4]float64{nums[0], nums[1], nums[3], nums[4]}
	default:
		return nil, &Error{kw.pos, fmt.Sprintf("BBOX takes 4 or 6 numbers, not %d", len(nums))}
	}
	if b[0] > b[2] || b[1] > b[3] {
		return nil, &Error{kw.pos, fmt.Sprintf("BBOX(%s, %s, %s, %s) must give the minimum before the maximum",
			num(b[0]), num(b[1]), num(b[2]), num(b[3]))}
	}
	return Geometry{G: orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}, CRS: p.crs, Pos: kw.pos}, nil
}

// signedNumber reads a number, with a sign the lexer may have left apart
// ("1 -2" in WKT lexes as 1, -, 2).
func (p *parser) signedNumber() (float64, error) {
	t := p.next()
	sign := 1.0
	if isOp(t, "-") || isOp(t, "+") {
		if t.text == "-" {
			sign = -1
		}
		t = p.next()
	}
	if t.kind != tokNumber {
		return 0, p.unexpected(t, "a number")
	}
	o, err := number(t)
	if err != nil {
		return 0, err
	}
	return sign * o.(NumberLit).V, nil
}
