package store

import (
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"incidentmap/cql2"
	"incidentmap/crs"
	"incidentmap/geo"
	"incidentmap/incident"
)

// Column says how a CQL2 property is stored. Its SQL text is trusted: it
// comes from the store's fixed tables, never from a request.
type Column struct {
	Type cql2.Type
	SQL  string // column expression of a scalar property
	X, Y string // longitude and latitude columns of a point geometry
}

// cqlColumns maps each field of the incident to its storage for the CQL2
// translator. Column names are the fields' names: incident.Fields is the one
// closed vocabulary SQL is built from.
var cqlColumns = func() map[string]Column {
	cols := map[string]Column{}
	for _, f := range incident.Fields {
		c := Column{SQL: "i." + f.Name}
		switch f.Kind {
		case incident.Point:
			c = Column{Type: cql2.GeometryType, X: "i.lon", Y: "i.lat"}
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
}()

func propsOf(cols map[string]Column) cql2.Props {
	ps := cql2.Props{}
	for n, c := range cols {
		ps[n] = c.Type
	}
	return ps
}

// translateCQL2 turns a checked CQL2 tree into a SQLite boolean expression
// with ? placeholders and its arguments. Column text comes only from cols;
// every literal becomes an argument. Spatial functions call relate (see
// registerFunctions) on the geometries' content ids; pin the tree's
// geometries (pinGeometries) for as long as the query runs.
func translateCQL2(e cql2.Expr, cols map[string]Column) (string, []any, error) {
	if err := cql2.Check(e, propsOf(cols)); err != nil {
		return "", nil, err
	}
	t := &translator{cols: cols, props: propsOf(cols)}
	var b strings.Builder
	if err := t.expr(&b, e); err != nil {
		return "", nil, err
	}
	return b.String(), t.args, nil
}

type translator struct {
	cols  map[string]Column
	props cql2.Props
	args  []any
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
		b.WriteString(boolSQL(e.V))
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
		fmt.Fprintf(b, "%s %s %s", l, e.Op, r)
	case cql2.Like:
		x, err := t.operand(e.X, cql2.String)
		if err != nil {
			return err
		}
		if !cql2.IsPatternLiteral(e.Pattern) {
			// A pattern from a property: translated per row (im_like).
			pat, err := t.operand(e.Pattern, cql2.String)
			if err != nil {
				return err
			}
			fmt.Fprintf(b, "%sim_like(%s, %s)", map[bool]string{true: "NOT "}[e.Negated], x, pat)
			return nil
		}
		pat, fold := likePattern(e.Pattern)
		// SQLite's LIKE ignores ASCII case; CQL2's does not, so the pattern
		// becomes a GLOB, case-sensitive. CASEI/ACCENTI fold both sides.
		t.args = append(t.args, likeToGlob(fold(pat)))
		fmt.Fprintf(b, "%s%s GLOB ?", x, not(e.Negated))
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
		fmt.Fprintf(b, "%s%s BETWEEN %s AND %s", s[0], not(e.Negated), s[1], s[2])
	case cql2.IsNull:
		c := t.cols[e.X.(cql2.Property).Name]
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

func boolSQL(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

func not(n bool) string {
	if n {
		return " NOT"
	}
	return ""
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
			return "im_casei(" + arg + ")", nil
		}
		return "im_accenti(" + arg + ")", nil
	case cql2.Arith:
		l, err := t.operand(o.L, cql2.Number)
		if err != nil {
			return "", err
		}
		r, err := t.operand(o.R, cql2.Number)
		if err != nil {
			return "", err
		}
		switch o.Op {
		case "/":
			// Division is of reals (CQL2), and by zero NULL (no match), not an error.
			return "(CAST(" + l + " AS REAL) / " + r + ")", nil
		case "DIV":
			return "CAST(" + l + " / " + r + " AS INTEGER)", nil
		case "%":
			return "(" + l + " % " + r + ")", nil
		case "^":
			return "im_pow(" + l + ", " + r + ")", nil
		}
		return "(" + l + " " + o.Op + " " + r + ")", nil
	}
	v, err := value(o, typ)
	if err != nil {
		return "", err
	}
	t.args = append(t.args, v)
	return "?", nil
}

// value converts a literal to the Go value bound for a comparison as typ.
func value(o cql2.Operand, typ cql2.Type) (any, error) {
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
			if n.Int {
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
		f := caseFold
		if o.Name == "ACCENTI" {
			f = accentFold
		}
		return s, func(s string) string { return f(inner(s)) }
	}
	return "", func(s string) string { return s }
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

// spatial translates a spatial function. The features are points, so each
// function comes down to where the point lies relative to the literal (see
// geo.Prepared.Relate); the box test before relate lets SQLite reject most
// rows without calling Go, and the same box narrows the cell-index ranges
// (Filter.bound) when the function is a top-level condition.
func (t *translator) spatial(b *strings.Builder, e cql2.Spatial) error {
	op, lit, ok := spatialLiteral(e)
	if !ok {
		// The point against itself.
		switch op {
		case "S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_EQUALS":
			b.WriteString("1")
		default:
			b.WriteString("0")
		}
		return nil
	}
	c := t.cols[spatialProperty(e).Name]
	pg := prepareGeometry(lit)
	switch op {
	case "S_OVERLAPS", "S_CROSSES":
		b.WriteString("0") // a point never overlaps nor crosses
		return nil
	case "S_DISJOINT":
		b.WriteString("NOT ")
		op = "S_INTERSECTS"
	}
	bd := pg.lonLatBound
	t.args = append(t.args, bd.Min[0], bd.Max[0], bd.Min[1], bd.Max[1])
	fmt.Fprintf(b, "(%s BETWEEN ? AND ? AND %s BETWEEN ? AND ? AND ", c.X, c.Y)
	if g := pg.grid(); g != nil {
		// Most points are settled by the grid cell they fall in (see
		// geo.Grid): one byte of the cells' answers, picked by arithmetic on
		// the coordinates; relate is called only in cells the outline
		// crosses. Go calls cost ~2.5 µs a row through the driver, the
		// arithmetic a small part of that.
		ans := make([]byte, len(g.Classes))
		for i, cls := range g.Classes {
			ans[i] = 2
			if cls != geo.Mixed {
				if r, _ := geo.RelateLocation(op, cls); r {
					ans[i] = 1
				} else {
					ans[i] = 0
				}
			}
		}
		t.args = append(t.args, gridAnswers{b: ans, key: fmt.Sprintf("grid:%d:%s", pg.id, op)},
			g.Bound.Min[0], g.KX(), int64(g.W-1), int64(g.W), g.Bound.Min[1], g.KY(), int64(g.H-1))
		fmt.Fprintf(b, "CASE substr(?, 1 + min(CAST((%s - ?) * ? AS INTEGER), ?) + ? * min(CAST((%s - ?) * ? AS INTEGER), ?), 1)"+
			" WHEN x'01' THEN 1 WHEN x'00' THEN 0 ELSE ", c.X, c.Y)
	}
	t.args = append(t.args, pg.id, int64(slices.Index(cql2.SpatialOps, op)))
	fmt.Fprintf(b, "im_relate(?, ?, %s, %s)", c.X, c.Y)
	if pg.grid() != nil {
		b.WriteString(" END")
	}
	b.WriteString(")")
	return nil
}

// gridCells is how many cells a polygon literal's grid has (see geo.Grid):
// 64 KiB of answers bound with the query, about 0.02° a side over a
// governorate, so only a few per cent of its box is left to relate.
const gridCells = 1 << 16

// gridAnswers is the bytes of a grid's answers as a query argument. Its
// String, which the count cache's key is made of, names the geometry and
// function instead of printing 64 KiB.
type gridAnswers struct {
	b   []byte
	key string
}

// Value gives the driver the bytes (a BLOB: substr reads it by offset).
func (g gridAnswers) Value() (driver.Value, error) { return g.b, nil }

// String is the key of the answers: the geometry's content id and the function.
func (g gridAnswers) String() string { return g.key }

// grid is the literal's cell grid, made on first use; nil when the literal
// is not an area, or is in a projected CRS (its edges are straight in that
// CRS, not in longitude and latitude, and the SQL tests degrees).
func (pg *preparedGeometry) grid() *geo.Grid {
	pg.gridOnce.Do(func() {
		if pg.crs != nil {
			return
		}
		if g, ok := pg.prep.Grid(gridCells); ok {
			pg.g = g
		}
	})
	return pg.g
}

// spatialLiteral is the function as "feature op literal" and the literal;
// ok is false when both arguments are the property.
func spatialLiteral(e cql2.Spatial) (op string, lit cql2.Geometry, ok bool) {
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

// needsClosure reports whether op (feature op literal) holds only of points
// in the literal's closure, so the literal's box bounds the matches.
func needsClosure(op string) bool {
	switch op {
	case "S_INTERSECTS", "S_WITHIN", "S_TOUCHES", "S_EQUALS", "S_CONTAINS":
		return true
	}
	return false
}

// preparedGeometry is a geometry literal ready for relate: located in its
// own CRS (a feature's point is projected into it), with a content id.
type preparedGeometry struct {
	id          int64
	prep        *geo.Prepared
	crs         *crs.CRS // nil for CRS84
	lonLatBound orb.Bound
	gridOnce    sync.Once
	g           *geo.Grid // see grid
}

// prepareGeometry readies a literal. Its id is a hash of its text and CRS, so
// one geometry has one id in every request (and count-cache key).
func prepareGeometry(g cql2.Geometry) *preparedGeometry {
	h := fnv.New64a()
	h.Write([]byte(g.CRS))
	h.Write([]byte{0})
	h.Write([]byte(g.String()))
	pg := &preparedGeometry{id: int64(h.Sum64() & math.MaxInt64), prep: geo.Prepare(g.G)}
	pg.lonLatBound = pg.prep.Bound
	if g.CRS != "" {
		if c, err := crs.Lookup(g.CRS); err == nil && c != crs.CRS84 {
			pg.crs = c
			b := pg.prep.Bound
			minLon, minLat, maxLon, maxLat := c.LonLatBox(b.Min[0], b.Min[1], b.Max[0], b.Max[1])
			pg.lonLatBound = orb.Bound{Min: orb.Point{minLon, minLat}, Max: orb.Point{maxLon, maxLat}}
		}
	}
	return pg
}

// cqlBound is the box every match of e lies in, from the spatial functions
// among its top-level AND conditions; ok is false when e does not bound the
// points.
func cqlBound(e cql2.Expr) (orb.Bound, bool) {
	switch e := e.(type) {
	case cql2.And:
		l, lok := cqlBound(e.L)
		r, rok := cqlBound(e.R)
		switch {
		case lok && rok:
			return intersectBounds(l, r), true
		case lok:
			return l, true
		}
		return r, rok
	case cql2.Spatial:
		op, lit, ok := spatialLiteral(e)
		if !ok || !needsClosure(op) {
			return orb.Bound{}, false
		}
		return prepareGeometry(lit).lonLatBound, true
	}
	return orb.Bound{}, false
}

// intersectBounds is the common part of two boxes; an empty intersection is
// an inverted box, which matches nothing.
func intersectBounds(a, b orb.Bound) orb.Bound {
	return orb.Bound{
		Min: orb.Point{math.Max(a.Min[0], b.Min[0]), math.Max(a.Min[1], b.Min[1])},
		Max: orb.Point{math.Min(a.Max[0], b.Max[0]), math.Min(a.Max[1], b.Max[1])},
	}
}

// cqlGeometries are the prepared geometry literals of e's spatial functions.
func cqlGeometries(e cql2.Expr) []*preparedGeometry {
	var out []*preparedGeometry
	var walk func(cql2.Expr)
	walk = func(e cql2.Expr) {
		switch e := e.(type) {
		case cql2.And:
			walk(e.L)
			walk(e.R)
		case cql2.Or:
			walk(e.L)
			walk(e.R)
		case cql2.Not:
			walk(e.X)
		case cql2.Spatial:
			if _, lit, ok := spatialLiteral(e); ok {
				out = append(out, prepareGeometry(lit))
			}
		}
	}
	walk(e)
	return out
}

// boundOf is the box every match of f lies in: the bbox, narrowed by the
// spatial functions among the top-level conditions of the CQL2 filter (see
// cqlBound); nil when nothing bounds the points. The exact tests stay in the
// conditions: the bound only chooses the cell-index ranges to read.
func boundOf(f Filter) *orb.Bound {
	b := f.BBox
	if f.Expr == nil {
		return b
	}
	cb, ok := cqlBound(f.Expr)
	switch {
	case !ok:
		return b
	case b != nil && !geo.CrossesAntimeridian(*b):
		cb = intersectBounds(*b, cb)
	}
	if cb.Min[0] > cb.Max[0] || cb.Min[1] > cb.Max[1] {
		// Disjoint boxes: one empty cell range, which holds no point.
		return &orb.Bound{Min: orb.Point{-180, 90}, Max: orb.Point{-180, 90}}
	}
	return &cb
}

// Bound is the box every match of f lies in (nil when nothing bounds the
// points): pages of a bounded filter come in spatial order, cell key first
// (see Incidents). Exported so that every engine orders pages by one rule.
func Bound(f Filter) *orb.Bound { return boundOf(f) }
