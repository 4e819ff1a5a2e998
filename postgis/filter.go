package postgis

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/project"

	"incidentmap/cql2"
	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/internal/cqlsql"
)

// query is a Filter translated to PostgreSQL: conditions over the incidents
// columns (alias i) with $n placeholders numbered from 1, and their values.
type query struct {
	incident.Filter
	conds []string
	args  []any
	ts    string // the $n of the full-text tsquery; "" for none
	// box is the bbox condition's index in conds (-1: none) and boxExact
	// the same test without the GiST operator, for plans that walk the cell
	// index instead (see spatialPage).
	box      int
	boxExact string
}

// arg binds v and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// where is " WHERE a AND b …", or "".
func (q *query) where() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

// columns are the incident's fields as the CQL2 translator reads them.
var columns = cqlsql.Columns("i.geom")

// Arg implements cqlsql.Binder.
func (q *query) Arg(v any) string { return q.arg(v) }

// compile translates f, the same predicates the SQLite engine answers, to
// PostgreSQL. A predicate this engine cannot answer is ErrInvalid.
func compile(f incident.Filter) (*query, error) {
	q := &query{Filter: f, box: -1}
	add := func(c string) { q.conds = append(q.conds, c) }
	if b := f.BBox; b != nil {
		if geo.CrossesAntimeridian(*b) {
			add(fmt.Sprintf("(i.lon >= %s OR i.lon <= %s) AND i.lat BETWEEN %s AND %s",
				q.arg(b.Min[0]), q.arg(b.Max[0]), q.arg(b.Min[1]), q.arg(b.Max[1])))
		} else {
			// The GiST index finds the box; the exact test keeps the edges
			// inclusive as the SQLite engine does.
			x0, y0, x1, y1 := q.arg(b.Min[0]), q.arg(b.Min[1]), q.arg(b.Max[0]), q.arg(b.Max[1])
			q.box, q.boxExact = len(q.conds), fmt.Sprintf("i.lon BETWEEN %s AND %s AND i.lat BETWEEN %s AND %s", x0, x1, y0, y1)
			add(fmt.Sprintf("i.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND %s", x0, y0, x1, y1, q.boxExact))
		}
	}
	if d := f.Interval.StartDate(); d != "" {
		add("i.event_date >= " + q.arg(d))
	}
	if d := f.Interval.EndDate(); d != "" {
		add("i.event_date <= " + q.arg(d))
	}
	if len(f.EventTypes) > 0 {
		add("i.event_type = ANY(" + q.arg(f.EventTypes) + ")")
	}
	if len(f.SubEventTypes) > 0 {
		add("i.sub_event_type = ANY(" + q.arg(f.SubEventTypes) + ")")
	}
	if len(f.Regions) > 0 {
		names := make([]string, len(f.Regions))
		for i, v := range f.Regions {
			// An ISO 3166-2 code (IQ-AN) stands for its governorate's name.
			if name, ok := incident.NameOfISO(v); ok {
				v = name
			}
			names[i] = strings.ToLower(v)
		}
		a := q.arg(names)
		add("(lower(i.region) = ANY(" + a + ") OR lower(i.admin1) = ANY(" + a + "))")
	}
	if len(f.Actors) > 0 {
		a := q.arg(f.Actors)
		add("(i.actor1 = ANY(" + a + ") OR i.actor2 = ANY(" + a + "))")
	}
	for _, e := range f.Equals {
		if !incident.IsField(e.Field) {
			return nil, fmt.Errorf("%q is not a property that can be compared: %w", e.Field, incident.ErrInvalid)
		}
		v := e.Value
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		add("i." + e.Field + " = " + q.arg(v))
	}
	if f.UpdatedSince != "" {
		add("i.updated_at >= " + q.arg(f.UpdatedSince))
	}
	if f.MinFatalities != nil {
		add("i.fatalities >= " + q.arg(*f.MinFatalities))
	}
	if f.MaxFatalities != nil {
		add("i.fatalities <= " + q.arg(*f.MaxFatalities))
	}
	if f.IDs != nil {
		add("i.id = ANY(" + q.arg(f.IDs) + ")")
	}
	if len(f.Text) > 0 {
		q.ts = q.arg(tsQueryText(f.Text))
		add("i.fts @@ " + tsquery(q.ts))
	}
	if f.Expr != nil {
		sql, err := cqlsql.Translate(f.Expr, columns, dialect{}, q)
		if err != nil {
			return nil, fmt.Errorf("filter: %w: %w", err, incident.ErrInvalid)
		}
		add("(" + sql + ")")
	}
	return q, nil
}

// tsQueryText encodes full-text terms as one parameter: terms separated by
// a newline, a term's spellings by U+001F, a prefix term ending in a tab.
// im_term_query builds each term's tsquery from it in SQL, so no user text is
// ever parsed as tsquery syntax.
func tsQueryText(terms []incident.Term) string {
	clean := strings.NewReplacer("\n", " ", "\t", " ", "\x1f", " ")
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteByte('\n')
		}
		for j, s := range append([]string{t.Text}, t.Any...) {
			if j > 0 {
				b.WriteByte('\x1f')
			}
			b.WriteString(clean.Replace(s))
		}
		if t.Prefix {
			b.WriteByte('\t')
		}
	}
	return b.String()
}

// tsquery is the SQL of the tsquery of a tsQueryText parameter: every
// term's (see im_term_query) AND-ed — what the SQLite engine's FTS5 query
// asks.
func tsquery(param string) string {
	return `(SELECT coalesce(tsquery_and_agg(im_term_query(term, '')), ''::tsquery)
		FROM unnest(string_to_array(` + param + `, E'\n')) AS term)`
}

// relevanceWeights are the tsvector weights of incident.Relevance's groups,
// in its order (see migration 4).
var relevanceWeights = []string{"A", "B", "C", "D"}

// relevance is the ORDER BY of sortby=relevance (see incident.Relevance)
// but the id, for the terms of q's parameter param: per term and group, the
// group's weight when the term matches words of the group's tsvector
// weight. Each weighted query is an uncorrelated subquery, so PostgreSQL
// builds it once, not per row.
func relevance(terms []incident.Term, param string) string {
	var parts []string
	for k := range terms {
		for g, grp := range incident.Relevance {
			parts = append(parts, fmt.Sprintf("(CASE WHEN i.fts @@ (SELECT im_term_query(split_part(%s, E'\n', %d), '%s')) THEN %d ELSE 0 END)",
				param, k+1, relevanceWeights[g], grp.Weight))
		}
	}
	var length []string
	for _, grp := range incident.Relevance {
		for _, f := range grp.Fields {
			length = append(length, "char_length(i."+f+")")
		}
	}
	return "(" + strings.Join(parts, " + ") + ") DESC, (" + strings.Join(length, " + ") + ")"
}

// dialect is how PostgreSQL says what cqlsql asks, answering what the
// SQLite engine answers: parameters typed, text ordered by bytes, CASEI and
// ACCENTI by im_casei/im_accenti (made from the same Go tables, see
// functions), arithmetic as SQLite's (division by zero is NULL, % of
// integers), spatial functions by PostGIS in the literal's own CRS.
type dialect struct{}

func (dialect) Bool(v bool) string {
	if v {
		return "TRUE"
	}
	return "FALSE"
}

func (dialect) Literal(ph string, typ cql2.Type) string {
	switch typ {
	case cql2.Integer:
		return ph + "::bigint"
	case cql2.Number:
		return ph + "::double precision"
	case cql2.Boolean:
		return ph + "::boolean"
	}
	return ph + "::text"
}

func (dialect) Ordered(x string) string    { return x + ` COLLATE "C"` }
func (dialect) CaseFold(x string) string   { return "im_casei(" + x + ")" }
func (dialect) AccentFold(x string) string { return "im_accenti(" + x + ")" }
func (dialect) Seconds(x string) string    { return "im_secs(" + x + ")" }

// Like writes the pattern in PostgreSQL's LIKE syntax: its own escape
// character is \ too, but a final lone \ is an error there and a plain
// backslash in CQL2.
func (dialect) Like(x, pattern string, negated bool, b cqlsql.Binder) string {
	var p strings.Builder
	for _, t := range cqlsql.ParseLike(pattern) {
		switch {
		case t.Any:
			p.WriteByte('%')
		case t.One:
			p.WriteByte('_')
		case t.R == '%' || t.R == '_' || t.R == '\\':
			p.WriteByte('\\')
			p.WriteRune(t.R)
		default:
			p.WriteRune(t.R)
		}
	}
	return x + not(negated) + " LIKE " + b.Arg(p.String()) + "::text"
}

// LikeExpr: a pattern from a column, its final lone backslash (if any)
// escaped so that it stands for itself, as in CQL2.
func (dialect) LikeExpr(x, pattern string, negated bool) string {
	return fmt.Sprintf(`%s%s LIKE (CASE WHEN %s ~ '(^|[^\\])(\\\\)*\\$' THEN %[3]s || '\' ELSE %[3]s END)`, x, not(negated), pattern)
}

func (dialect) Arith(op, l, r string, lt, rt cql2.Type) string {
	ints := lt == cql2.Integer && rt == cql2.Integer
	const f = "::double precision"
	switch op {
	case "/":
		return "(" + l + f + " / NULLIF(" + r + f + ", 0))"
	case "DIV":
		if ints {
			return "(" + l + "::bigint / NULLIF(" + r + "::bigint, 0))"
		}
		return "trunc(" + l + f + " / NULLIF(" + r + f + ", 0))::bigint"
	case "%":
		if ints {
			return "(" + l + "::bigint % NULLIF(" + r + "::bigint, 0))"
		}
		return "(trunc(" + l + f + ")::bigint % NULLIF(trunc(" + r + f + ")::bigint, 0))"
	case "^":
		return "im_pow(" + l + f + ", " + r + f + ")"
	}
	if ints {
		return "(" + l + "::bigint " + op + " " + r + "::bigint)"
	}
	return "(" + l + f + " " + op + " " + r + f + ")"
}

// spatialFuncs maps CQL2's spatial functions to PostGIS's.
var spatialFuncs = map[string]string{
	"S_INTERSECTS": "ST_Intersects", "S_EQUALS": "ST_Equals", "S_TOUCHES": "ST_Touches",
	"S_WITHIN": "ST_Within", "S_CONTAINS": "ST_Contains",
}

// Spatial tests the point against the literal in the literal's CRS (the
// point projected by ST_Transform, so the literal's edges stay straight in
// its own CRS, as the SQLite engine does), after the box around the literal
// in degrees, which the GiST index answers.
func (dialect) Spatial(op string, c cqlsql.Column, g cql2.Geometry, b cqlsql.Binder) (string, error) {
	fn, ok := spatialFuncs[op]
	if !ok {
		return "", &cql2.Error{Pos: g.Pos, Msg: op + " is not a spatial function"}
	}
	bd := cqlsql.LonLatBound(g)
	box := fmt.Sprintf("ST_MakeEnvelope(%s::double precision, %s::double precision, %s::double precision, %s::double precision, 4326)",
		b.Arg(bd.Min[0]), b.Arg(bd.Min[1]), b.Arg(bd.Max[0]), b.Arg(bd.Max[1]))
	geom, srid := g.G, 4326
	feature := c.SQL
	if cr := cqlsql.LiteralCRS(g); cr != nil {
		if cr.LatFirst {
			// EPSG:4326 is latitude first; PostGIS reads x as longitude.
			geom = orb.Clone(geom)
			project.Geometry(geom, func(p orb.Point) orb.Point { return orb.Point{p[1], p[0]} })
		} else {
			srid = cr.EPSG
			feature = fmt.Sprintf("ST_Transform(%s, %d)", c.SQL, srid)
		}
	}
	var lit string
	if bb, ok := geom.(orb.Bound); ok {
		lit = fmt.Sprintf("ST_MakeEnvelope(%s::double precision, %s::double precision, %s::double precision, %s::double precision, %d)",
			b.Arg(bb.Min[0]), b.Arg(bb.Min[1]), b.Arg(bb.Max[0]), b.Arg(bb.Max[1]), srid)
	} else {
		js, err := geojson.NewGeometry(geom).MarshalJSON()
		if err != nil {
			return "", fmt.Errorf("geometry literal: %w", err)
		}
		lit = fmt.Sprintf("ST_SetSRID(ST_GeomFromGeoJSON(%s::text), %d)", b.Arg(string(js)), srid)
	}
	return fmt.Sprintf("(%s && %s AND %s(%s, %s))", c.SQL, box, fn, feature, lit), nil
}

func not(n bool) string {
	if n {
		return " NOT"
	}
	return ""
}
