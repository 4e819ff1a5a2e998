// Package cqlsql translates a checked CQL2 syntax tree (package cql2) into
// the WHERE condition of an engine's SQL. The standard SQL cases (AND, OR,
// NOT, comparisons, LIKE, IN, BETWEEN, IS NULL, arithmetic, Allen's temporal
// relations) are written once here; an engine says what differs in its SQL
// through a Dialect: placeholders, typed literals, text order, case and
// accent folding, LIKE, arithmetic, seconds of a stored time, and the
// spatial functions.
//
// Only the engines (store for SQLite, postgis for PostGIS) import this
// package: SQL text stays inside them (a test in this package checks it).
package cqlsql

import (
	"fmt"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"incidentmap/cql2"
	"incidentmap/crs"
	"incidentmap/geo"
	"incidentmap/incident"
)

// Column says how a CQL2 property is stored. Its SQL text is trusted: it
// comes from an engine's fixed tables, never from a request.
type Column struct {
	Type cql2.Type
	SQL  string // column expression of a scalar property, or of the geometry
	X, Y string // longitude and latitude columns of a point geometry
}

// Columns maps each field of the incident (incident.Fields, the one closed
// vocabulary SQL is built from) to its column in the incidents table aliased
// i; geom is the SQL of the point geometry ("" where the engine keeps only
// lon and lat).
func Columns(geom string) map[string]Column {
	cols := map[string]Column{}
	for _, f := range incident.Fields {
		c := Column{SQL: "i." + f.Name}
		switch f.Kind {
		case incident.Point:
			c = Column{Type: cql2.GeometryType, SQL: geom, X: "i.lon", Y: "i.lat"}
		case incident.Integer:
			c.Type = cql2.Integer
		case incident.Number:
			c.Type = cql2.Number
		case incident.Date:
			c.Type = cql2.Date
		case incident.DateTime:
			c.Type = cql2.DateTime
		}
		cols[f.Name] = c
	}
	return cols
}

// Props are the CQL2 types of cols, what cql2.Check validates a tree against.
func Props(cols map[string]Column) cql2.Props {
	ps := cql2.Props{}
	for n, c := range cols {
		ps[n] = c.Type
	}
	return ps
}

// Binder binds a value and returns its placeholder ("?" or "$n"). The
// translator binds values in the order their placeholders appear in the text.
type Binder interface {
	Arg(v any) string
}

// Dialect is what an engine's SQL says its own way.
type Dialect interface {
	// Bool is the SQL of a boolean constant.
	Bool(v bool) string
	// Literal is the bound placeholder ph as a value of typ (PostgreSQL
	// cannot always infer a parameter's type; SQLite needs no cast).
	Literal(ph string, typ cql2.Type) string
	// Ordered is a text expression compared in byte (code point) order.
	Ordered(x string) string
	// CaseFold and AccentFold are CASEI and ACCENTI of a text expression:
	// CaseFold and AccentFold of this package, computed by the database.
	CaseFold(x string) string
	AccentFold(x string) string
	// Like is x LIKE pattern, a CQL2 pattern text (already folded by CASEI
	// or ACCENTI); LikeExpr the same for a pattern that is an expression.
	Like(x, pattern string, negated bool, b Binder) string
	LikeExpr(x, pattern string, negated bool) string
	// Arith is l op r (op one of + - * / % DIV ^) for operands of types lt
	// and rt. / divides reals and by zero is NULL; DIV and % are of the
	// operands truncated to integers, by zero NULL; ^ is math.Pow's.
	Arith(op, l, r string, lt, rt cql2.Type) string
	// Seconds is a stored date (YYYY-MM-DD: its midnight UTC) or RFC 3339
	// date-time as seconds since 1970, float64(unix) + float64(nanos)/1e9
	// exactly as Secs computes a literal's.
	Seconds(x string) string
	// Spatial is "the feature's point op g" (op one of S_INTERSECTS,
	// S_EQUALS, S_TOUCHES, S_WITHIN, S_CONTAINS: the translator has turned
	// the others into these) for the geometry column c.
	Spatial(op string, c Column, g cql2.Geometry, b Binder) (string, error)
}

// Translate turns e, checked against cols, into a boolean SQL expression of
// dialect d, binding every literal through b.
func Translate(e cql2.Expr, cols map[string]Column, d Dialect, b Binder) (string, error) {
	props := Props(cols)
	if err := cql2.Check(e, props); err != nil {
		return "", err
	}
	t := &translator{cols: cols, props: props, d: d, b: b}
	var sb strings.Builder
	if err := t.expr(&sb, e); err != nil {
		return "", err
	}
	return sb.String(), nil
}

type translator struct {
	cols  map[string]Column
	props cql2.Props
	d     Dialect
	b     Binder
}

func (t *translator) expr(b *strings.Builder, e cql2.Expr) error {
	switch e := e.(type) {
	case cql2.And, cql2.Or:
		return t.balanced(b, e)
	case cql2.Not:
		b.WriteString("NOT (")
		if err := t.expr(b, e.X); err != nil {
			return err
		}
		b.WriteString(")")
	case cql2.BoolLit:
		b.WriteString(t.d.Bool(e.V))
	case cql2.Compare:
		typ, err := t.common(e.L, e.R)
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
		fmt.Fprintf(b, "%s %s %s", t.ordered(l, typ), e.Op, r)
	case cql2.Like:
		x, err := t.operand(e.X, cql2.String)
		if err != nil {
			return err
		}
		if !cql2.IsPatternLiteral(e.Pattern) {
			// A pattern from a property: matched per row.
			pat, err := t.operand(e.Pattern, cql2.String)
			if err != nil {
				return err
			}
			b.WriteString(t.d.LikeExpr(x, pat, e.Negated))
			return nil
		}
		pat, fold := likePattern(e.Pattern)
		b.WriteString(t.d.Like(x, fold(pat), e.Negated, t.b))
	case cql2.In:
		typ, err := t.common(append([]cql2.Operand{e.X}, e.List...)...)
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
	case cql2.Between:
		typ, err := t.common(e.X, e.Lo, e.Hi)
		if err != nil {
			return err
		}
		var s [3]string
		for i, o := range []cql2.Operand{e.X, e.Lo, e.Hi} {
			if s[i], err = t.operand(o, typ); err != nil {
				return err
			}
		}
		fmt.Fprintf(b, "%s%s BETWEEN %s AND %s", t.ordered(s[0], typ), not(e.Negated), s[1], s[2])
	case cql2.IsNull:
		p, ok := e.X.(cql2.Property)
		if !ok {
			return &cql2.Error{Pos: e.X.Position(), Msg: "IS NULL takes a property"}
		}
		c := t.cols[p.Name]
		expr := c.SQL
		if c.Type == cql2.GeometryType {
			expr = c.X
		}
		switch {
		case c.Type == cql2.String && e.Negated:
			// A blank text (ACLED leaves fields blank; stored as '') is the
			// null of a text property: IS NULL finds it, IS NOT NULL does not.
			fmt.Fprintf(b, "(%s IS NOT NULL AND %s <> '')", expr, expr)
		case c.Type == cql2.String:
			fmt.Fprintf(b, "(%s IS NULL OR %s = '')", expr, expr)
		default:
			fmt.Fprintf(b, "%s IS%s NULL", expr, not(e.Negated))
		}
	case cql2.Spatial:
		return t.spatial(b, e)
	case cql2.Temporal:
		return t.temporal(b, e)
	default:
		return &cql2.Error{Msg: fmt.Sprintf("unsupported expression %T", e)}
	}
	return nil
}

func not(n bool) string {
	if n {
		return " NOT"
	}
	return ""
}

// ordered is x compared as typ: text in byte order on every engine.
func (t *translator) ordered(x string, typ cql2.Type) string {
	if typ == cql2.String {
		return t.d.Ordered(x)
	}
	return x
}

// balanced writes a chain of ANDs (or ORs) as a balanced tree of
// parentheses: the parser nests "a OR b OR c …" to the left, and SQLite
// refuses an expression nested deeper than 1,000, which a long list of
// alternatives reaches; balanced, 10,000 terms nest 14 deep.
func (t *translator) balanced(b *strings.Builder, e cql2.Expr) error {
	_, isAnd := e.(cql2.And)
	var terms []cql2.Expr
	var flatten func(cql2.Expr)
	flatten = func(x cql2.Expr) {
		switch x := x.(type) {
		case cql2.And:
			if isAnd {
				flatten(x.L)
				flatten(x.R)
				return
			}
		case cql2.Or:
			if !isAnd {
				flatten(x.L)
				flatten(x.R)
				return
			}
		}
		terms = append(terms, x)
	}
	flatten(e)
	op := " OR "
	if isAnd {
		op = " AND "
	}
	var write func([]cql2.Expr) error
	write = func(ts []cql2.Expr) error {
		if len(ts) == 1 {
			return t.expr(b, ts[0])
		}
		b.WriteString("(")
		if err := write(ts[:len(ts)/2]); err != nil {
			return err
		}
		b.WriteString(op)
		if err := write(ts[len(ts)/2:]); err != nil {
			return err
		}
		b.WriteString(")")
		return nil
	}
	return write(terms)
}

// common is the type operands compare as: the first property's (or typed
// expression's), else the first literal's.
func (t *translator) common(ops ...cql2.Operand) (cql2.Type, error) {
	for _, o := range ops {
		switch o.(type) {
		case cql2.Property, cql2.Func, cql2.Arith:
			return cql2.TypeOf(o, t.props)
		}
	}
	return cql2.TypeOf(ops[0], t.props)
}

// operand is the SQL of o compared as typ.
func (t *translator) operand(o cql2.Operand, typ cql2.Type) (string, error) {
	switch o := o.(type) {
	case cql2.Property:
		return t.cols[o.Name].SQL, nil
	case cql2.Func:
		arg, err := t.operand(o.Args[0], cql2.String)
		if err != nil {
			return "", err
		}
		if o.Name == "CASEI" {
			return t.d.CaseFold(arg), nil
		}
		return t.d.AccentFold(arg), nil
	case cql2.Arith:
		lt, err := cql2.TypeOf(o.L, t.props)
		if err != nil {
			return "", err
		}
		rt, err := cql2.TypeOf(o.R, t.props)
		if err != nil {
			return "", err
		}
		l, err := t.operand(o.L, cql2.Number)
		if err != nil {
			return "", err
		}
		r, err := t.operand(o.R, cql2.Number)
		if err != nil {
			return "", err
		}
		return t.d.Arith(o.Op, l, r, lt, rt), nil
	}
	v, err := Value(o, typ)
	if err != nil {
		return "", err
	}
	lt := typ
	switch v.(type) {
	case int64:
		lt = cql2.Integer
	case float64:
		lt = cql2.Number
	}
	return t.d.Literal(t.b.Arg(v), lt), nil
}

// Value converts a literal to the Go value bound for a comparison as typ:
// text, int64 (a number without fraction), float64, bool, or a date
// (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SSZ) as the text it is stored as.
func Value(o cql2.Operand, typ cql2.Type) (any, error) {
	wrong := func() error {
		return &cql2.Error{Pos: o.Position(), Msg: fmt.Sprintf("%s is not a valid %s value", o.String(), typ)}
	}
	switch typ {
	case cql2.String:
		if s, ok := o.(cql2.StringLit); ok {
			return s.V, nil
		}
	case cql2.Integer, cql2.Number:
		if n, ok := o.(cql2.NumberLit); ok {
			if n.Int && n.V >= -(1<<63) && n.V < 1<<63 {
				return int64(n.V), nil
			}
			return n.V, nil
		}
	case cql2.Boolean:
		if v, ok := o.(cql2.BoolLit); ok {
			return v.V, nil
		}
	case cql2.Date:
		switch l := o.(type) {
		case cql2.DateLit:
			return l.V.Format("2006-01-02"), nil
		case cql2.TimestampLit:
			return l.V.Format("2006-01-02"), nil
		case cql2.StringLit:
			// A quoted date compared with a date property, as GDAL and QGIS write it.
			if _, err := time.Parse("2006-01-02", l.V); err == nil {
				return l.V, nil
			}
		}
	case cql2.DateTime:
		switch l := o.(type) {
		case cql2.DateLit:
			return l.V.Format("2006-01-02") + "T00:00:00Z", nil
		case cql2.TimestampLit:
			return l.V.Format("2006-01-02T15:04:05Z"), nil
		case cql2.StringLit:
			if _, err := time.Parse("2006-01-02", l.V); err == nil {
				return l.V + "T00:00:00Z", nil
			}
		}
	}
	return nil, wrong()
}

// likePattern is the text of a LIKE pattern and the folding CASEI/ACCENTI
// wrapped around it apply.
func likePattern(o cql2.Operand) (string, func(string) string) {
	switch o := o.(type) {
	case cql2.StringLit:
		return o.V, func(s string) string { return s }
	case cql2.Func:
		s, inner := likePattern(o.Args[0])
		f := CaseFold
		if o.Name == "ACCENTI" {
			f = AccentFold
		}
		return s, func(s string) string { return f(inner(s)) }
	}
	return "", func(s string) string { return s }
}

// LikeToken is one part of a CQL2 LIKE pattern: any run of characters (%),
// one character (_), or the character R literally.
type LikeToken struct {
	Any, One bool
	R        rune
}

// ParseLike splits a CQL2 LIKE pattern (% any run, _ one character, \
// escapes the next character; a final lone \ is itself) into its tokens.
func ParseLike(p string) []LikeToken {
	var out []LikeToken
	esc := false
	for _, r := range p {
		switch {
		case esc:
			esc = false
			out = append(out, LikeToken{R: r})
		case r == '\\':
			esc = true
		case r == '%':
			out = append(out, LikeToken{Any: true})
		case r == '_':
			out = append(out, LikeToken{One: true})
		default:
			out = append(out, LikeToken{R: r})
		}
	}
	if esc {
		out = append(out, LikeToken{R: '\\'})
	}
	return out
}

// spatial translates a spatial function. The features are points: a point
// never overlaps nor crosses anything, S_DISJOINT is NOT S_INTERSECTS, the
// point against itself is constant, and a literal first is the converse
// relation with the literal second; the dialect writes the rest.
func (t *translator) spatial(b *strings.Builder, e cql2.Spatial) error {
	op, lit, ok := SpatialLiteral(e)
	if !ok {
		switch op {
		case "S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_EQUALS":
			b.WriteString(t.d.Bool(true))
		default:
			b.WriteString(t.d.Bool(false))
		}
		return nil
	}
	c := t.cols[spatialProperty(e).Name]
	switch op {
	case "S_OVERLAPS", "S_CROSSES":
		b.WriteString(t.d.Bool(false))
		return nil
	case "S_DISJOINT":
		b.WriteString("NOT ")
		op = "S_INTERSECTS"
	}
	s, err := t.d.Spatial(op, c, lit, t.b)
	if err != nil {
		return err
	}
	b.WriteString(s)
	return nil
}

// SpatialLiteral is the function as "feature op literal" and the literal;
// ok is false when both arguments are the property.
func SpatialLiteral(e cql2.Spatial) (op string, lit cql2.Geometry, ok bool) {
	if g, isLit := e.B.(cql2.Geometry); isLit {
		return e.Op, g, true
	}
	if g, isLit := e.A.(cql2.Geometry); isLit {
		return geo.Converse(e.Op), g, true
	}
	return e.Op, cql2.Geometry{}, false
}

func spatialProperty(e cql2.Spatial) cql2.Property {
	if p, ok := e.A.(cql2.Property); ok {
		return p
	}
	return e.B.(cql2.Property)
}

// LiteralCRS is the CRS a geometry literal's coordinates are in: nil for
// CRS84 (and for a CRS this build does not know, which cql2.Check and the
// server have refused before).
func LiteralCRS(g cql2.Geometry) *crs.CRS {
	if g.CRS == "" {
		return nil
	}
	c, err := crs.Lookup(g.CRS)
	if err != nil || c == crs.CRS84 {
		return nil
	}
	return c
}

// LonLatBound is the longitude/latitude box around a geometry literal in
// any CRS: every point the literal's closure holds lies in it, so engines
// test it first (an index finds it) and the exact relation after.
func LonLatBound(g cql2.Geometry) orb.Bound {
	b := g.G.Bound()
	c := LiteralCRS(g)
	if c == nil {
		return b
	}
	minLon, minLat, maxLon, maxLat := c.LonLatBox(b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	return orb.Bound{Min: orb.Point{minLon, minLat}, Max: orb.Point{maxLon, maxLat}}
}

// OrderBy is the ORDER BY list of sort keys (fields the caller has checked
// with incident.IsField): each key's column, text and dates in byte order
// (Dialect.Ordered), in its direction; then the id in the last key's
// direction unless a key is the id already, so that the order is total
// (offset pages never skip or repeat a row) and an index on the last key,
// which holds the id after it, can serve it whole. Both engines order alike.
func OrderBy(keys []incident.SortKey, cols map[string]Column, d Dialect) string {
	var out []string
	desc, byID := false, false
	for _, k := range keys {
		col := "i.id"
		if c, ok := cols[k.Field]; ok && c.Type != cql2.GeometryType {
			col = c.SQL
			switch c.Type {
			case cql2.String, cql2.Date, cql2.DateTime:
				col = d.Ordered(col)
			}
		}
		if k.Desc {
			col += " DESC"
		}
		out = append(out, col)
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
