package store

import (
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/paulmach/orb"

	"incidentmap/cql2"
	"incidentmap/crs"
	"incidentmap/geo"
	"incidentmap/internal/cqlsql"
)

// cqlColumns maps each field of the incident to its storage for the CQL2
// translator: the SQLite engine keeps a point as lon and lat.
var cqlColumns = cqlsql.Columns("")

// translateCQL2 turns a checked CQL2 tree into a SQLite boolean expression
// with ? placeholders and its arguments (the shared translator, cqlsql, with
// SQLite's dialect). Column text comes only from cols; every literal becomes
// an argument. Spatial functions call relate (see registerFunctions) on the
// geometries' content ids; pin the tree's geometries (pinGeometries) for as
// long as the query runs.
func translateCQL2(e cql2.Expr, cols map[string]cqlsql.Column) (string, []any, error) {
	var b binder
	s, err := cqlsql.Translate(e, cols, dialect{}, &b)
	return s, b, err
}

// binder collects the arguments of ? placeholders in order.
type binder []any

// Arg implements cqlsql.Binder.
func (b *binder) Arg(v any) string {
	*b = append(*b, v)
	return "?"
}

// dialect is how SQLite says what cqlsql asks. Go functions registered on
// every connection (openDB) compute what SQLite has no function for.
type dialect struct{}

func (dialect) Bool(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

func (dialect) Literal(ph string, _ cql2.Type) string { return ph }

// Ordered: SQLite compares text by bytes (BINARY) already.
func (dialect) Ordered(x string) string    { return x }
func (dialect) CaseFold(x string) string   { return "im_casei(" + x + ")" }
func (dialect) AccentFold(x string) string { return "im_accenti(" + x + ")" }
func (dialect) Seconds(x string) string    { return "im_secs(" + x + ")" }
func (dialect) LikeExpr(x, p string, n bool) string {
	return map[bool]string{true: "NOT "}[n] + "im_like(" + x + ", " + p + ")"
}

// Like: SQLite's LIKE ignores ASCII case and CQL2's does not, so the pattern
// becomes a GLOB, which is case-sensitive.
func (dialect) Like(x, pattern string, negated bool, b cqlsql.Binder) string {
	ph := b.Arg(likeToGlob(pattern))
	if negated {
		return x + " NOT GLOB " + ph
	}
	return x + " GLOB " + ph
}

func (dialect) Arith(op, l, r string, _, _ cql2.Type) string {
	switch op {
	case "/":
		// Division is of reals (CQL2), and by zero NULL (no match), not an error.
		return "(CAST(" + l + " AS REAL) / " + r + ")"
	case "DIV":
		return "CAST(" + l + " / " + r + " AS INTEGER)"
	case "^":
		return "im_pow(" + l + ", " + r + ")"
	}
	// + - * and % (SQLite's % truncates both sides to integers).
	return "(" + l + " " + op + " " + r + ")"
}

// likeToGlob turns a CQL2 LIKE pattern into a SQLite GLOB pattern, which is
// case-sensitive.
func likeToGlob(p string) string {
	var b strings.Builder
	for _, t := range cqlsql.ParseLike(p) {
		switch {
		case t.Any:
			b.WriteByte('*')
		case t.One:
			b.WriteByte('?')
		default:
			b.WriteString(globLiteral(t.R))
		}
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

// Spatial is "the point op g": where the point lies relative to the literal
// (see geo.Prepared.Relate). The box test before relate lets SQLite reject
// most rows without calling Go, and the same box narrows the cell-index
// ranges (Filter.bound) when the function is a top-level condition.
func (dialect) Spatial(op string, c cqlsql.Column, g cql2.Geometry, b cqlsql.Binder) (string, error) {
	pg := prepareGeometry(g)
	bd := pg.lonLatBound
	var sb strings.Builder
	fmt.Fprintf(&sb, "(%s BETWEEN %s AND %s AND %s BETWEEN %s AND %s AND ",
		c.X, b.Arg(bd.Min[0]), b.Arg(bd.Max[0]), c.Y, b.Arg(bd.Min[1]), b.Arg(bd.Max[1]))
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
		fmt.Fprintf(&sb, "CASE substr(%s, 1 + min(CAST((%s - %s) * %s AS INTEGER), %s) + %s * min(CAST((%s - %s) * %s AS INTEGER), %s), 1)"+
			" WHEN x'01' THEN 1 WHEN x'00' THEN 0 ELSE ",
			b.Arg(gridAnswers{b: ans, key: fmt.Sprintf("grid:%d:%s", pg.id, op)}),
			c.X, b.Arg(g.Bound.Min[0]), b.Arg(g.KX()), b.Arg(int64(g.W-1)), b.Arg(int64(g.W)),
			c.Y, b.Arg(g.Bound.Min[1]), b.Arg(g.KY()), b.Arg(int64(g.H-1)))
	}
	fmt.Fprintf(&sb, "im_relate(%s, %s, %s, %s)", b.Arg(pg.id), b.Arg(int64(slices.Index(cql2.SpatialOps, op))), c.X, c.Y)
	if pg.grid() != nil {
		sb.WriteString(" END")
	}
	sb.WriteString(")")
	return sb.String(), nil
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
	return &preparedGeometry{id: int64(h.Sum64() & math.MaxInt64), prep: geo.Prepare(g.G),
		crs: cqlsql.LiteralCRS(g), lonLatBound: cqlsql.LonLatBound(g)}
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
			if _, lit, ok := cqlsql.SpatialLiteral(e); ok {
				out = append(out, prepareGeometry(lit))
			}
		}
	}
	walk(e)
	return out
}
