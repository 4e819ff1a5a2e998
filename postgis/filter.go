package postgis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"incidentmap/cql2"
	"incidentmap/geo"
	"incidentmap/incident"
)

// query is a Filter translated to PostgreSQL: conditions over the incidents
// columns (alias i) with $n placeholders numbered from 1, and their values.
type query struct {
	incident.Filter
	conds []string
	args  []any
	ts    string // the $n of the full-text tsquery; "" for none
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

// props are the incident's fields as CQL2 types.
var props = func() cql2.Props {
	ps := cql2.Props{}
	for _, f := range incident.Fields {
		ps[f.Name] = map[incident.Kind]cql2.Type{
			incident.String: cql2.String, incident.Integer: cql2.Integer, incident.Number: cql2.Number,
			incident.Date: cql2.Date, incident.DateTime: cql2.DateTime, incident.Point: cql2.GeometryType,
		}[f.Kind]
	}
	return ps
}()

// compile translates f, the same predicates the SQLite engine answers, to
// PostgreSQL. A predicate this engine cannot answer is ErrInvalid.
func compile(f incident.Filter) (*query, error) {
	q := &query{Filter: f}
	add := func(c string) { q.conds = append(q.conds, c) }
	if b := f.BBox; b != nil {
		if geo.CrossesAntimeridian(*b) {
			add(fmt.Sprintf("(i.lon >= %s OR i.lon <= %s) AND i.lat BETWEEN %s AND %s",
				q.arg(b.Min[0]), q.arg(b.Max[0]), q.arg(b.Min[1]), q.arg(b.Max[1])))
		} else {
			// The GiST index finds the box; the exact test keeps the edges
			// inclusive as the SQLite engine does.
			add(fmt.Sprintf("i.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND i.lon BETWEEN %[1]s AND %[3]s AND i.lat BETWEEN %[2]s AND %[4]s",
				q.arg(b.Min[0]), q.arg(b.Min[1]), q.arg(b.Max[0]), q.arg(b.Max[1])))
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
		if err := cql2.Check(f.Expr, props); err != nil {
			return nil, fmt.Errorf("filter: %w: %w", err, incident.ErrInvalid)
		}
		t := &translator{q: q}
		var b strings.Builder
		if err := t.expr(&b, f.Expr); err != nil {
			return nil, fmt.Errorf("filter: %w: %w", err, incident.ErrInvalid)
		}
		add("(" + b.String() + ")")
	}
	return q, nil
}

// tsQueryText encodes full-text terms as one parameter: terms separated by
// a newline, a prefix term ending in a tab. tsquery builds the tsquery from it
// in SQL, so no user text is ever parsed as tsquery syntax.
func tsQueryText(terms []incident.Term) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.NewReplacer("\n", " ", "\t", " ").Replace(t.Text))
		if t.Prefix {
			b.WriteByte('\t')
		}
	}
	return b.String()
}

// tsquery is the SQL of the tsquery of a tsQueryText parameter: each term a
// phrase of its words (simple configuration, accents removed), a prefix
// term's last word matching as a prefix, all AND-ed — what the SQLite
// engine's FTS5 query asks.
func tsquery(param string) string {
	return `(SELECT coalesce(tsquery_and_agg(t), ''::tsquery) FROM (
		SELECT CASE WHEN right(term, 1) = E'\t'
			THEN (phraseto_tsquery('simple', im_words(rtrim(term, E'\t')))::text || ':*')::tsquery
			ELSE phraseto_tsquery('simple', im_words(term)) END AS t
		FROM unnest(string_to_array(` + param + `, E'\n')) AS term) terms)`
}

// translator writes a checked CQL2 tree as PostgreSQL.
type translator struct{ q *query }

func (t *translator) expr(b *strings.Builder, e cql2.Expr) error {
	switch e := e.(type) {
	case cql2.And:
		return t.binary(b, e.L, " AND ", e.R)
	case cql2.Or:
		return t.binary(b, e.L, " OR ", e.R)
	case cql2.Not:
		b.WriteString("NOT (")
		if err := t.expr(b, e.X); err != nil {
			return err
		}
		b.WriteString(")")
	case cql2.BoolLit:
		if e.V {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
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
		// PostgreSQL's LIKE is case-sensitive, as CQL2's, with \ escaping;
		// CASEI/ACCENTI of the pattern become lower/im_unaccent of it.
		pat, err := t.operand(e.Pattern, cql2.String)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "%s%s LIKE %s", x, not(e.Negated), pat)
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
		p, ok := e.X.(cql2.Property)
		if !ok {
			return fmt.Errorf("IS NULL of %s is not supported by the PostGIS engine", e.X)
		}
		col := "i." + p.Name
		switch {
		case props[p.Name] == cql2.GeometryType:
			fmt.Fprintf(b, "i.geom IS%s NULL", not(e.Negated))
		case props[p.Name] == cql2.String && e.Negated:
			// A blank text is the null of a text property, as in the SQLite engine.
			fmt.Fprintf(b, "(%s IS NOT NULL AND %s <> '')", col, col)
		case props[p.Name] == cql2.String:
			fmt.Fprintf(b, "(%s IS NULL OR %s = '')", col, col)
		default:
			fmt.Fprintf(b, "%s IS%s NULL", col, not(e.Negated))
		}
	case cql2.Spatial:
		return t.spatial(b, e)
	default:
		return fmt.Errorf("%s is not supported by the PostGIS engine yet", e)
	}
	return nil
}

func not(n bool) string {
	if n {
		return " NOT"
	}
	return ""
}

func (t *translator) binary(b *strings.Builder, l cql2.Expr, op string, r cql2.Expr) error {
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

// common is the type the operands are compared as: a property's, else the
// first operand's.
func (t *translator) common(ops ...cql2.Operand) (cql2.Type, error) {
	for _, o := range ops {
		switch o.(type) {
		case cql2.Property, cql2.Func:
			return cql2.TypeOf(o, props)
		}
	}
	return cql2.TypeOf(ops[0], props)
}

// operand is the SQL of o compared as typ.
func (t *translator) operand(o cql2.Operand, typ cql2.Type) (string, error) {
	switch o := o.(type) {
	case cql2.Property:
		if props[o.Name] == cql2.GeometryType {
			return "i.geom", nil
		}
		return "i." + o.Name, nil
	case cql2.Func:
		arg, err := t.operand(o.Args[0], cql2.String)
		if err != nil {
			return "", err
		}
		if o.Name == "CASEI" {
			return "lower(" + arg + ")", nil
		}
		return "im_unaccent(" + arg + ")", nil
	case cql2.StringLit:
		return t.q.arg(o.V), nil
	case cql2.NumberLit:
		if typ == cql2.Integer && o.Int && math.Abs(o.V) < 1<<53 {
			return t.q.arg(int64(o.V)), nil
		}
		return t.q.arg(o.V) + "::double precision", nil
	case cql2.BoolLit:
		return t.q.arg(o.V), nil
	case cql2.DateLit:
		return t.q.arg(o.V.UTC().Format(time.DateOnly)), nil
	case cql2.TimestampLit:
		if typ == cql2.Date {
			return t.q.arg(o.V.UTC().Format(time.DateOnly)), nil
		}
		return t.q.arg(o.V.UTC().Format(time.RFC3339)), nil
	}
	return "", fmt.Errorf("%s is not supported by the PostGIS engine yet", o)
}

// spatialFuncs maps CQL2's spatial functions to PostGIS's.
var spatialFuncs = map[string]string{
	"S_INTERSECTS": "ST_Intersects", "S_EQUALS": "ST_Equals", "S_DISJOINT": "ST_Disjoint",
	"S_TOUCHES": "ST_Touches", "S_WITHIN": "ST_Within", "S_OVERLAPS": "ST_Overlaps",
	"S_CROSSES": "ST_Crosses", "S_CONTAINS": "ST_Contains",
}

func (t *translator) spatial(b *strings.Builder, e cql2.Spatial) error {
	fn, ok := spatialFuncs[e.Op]
	if !ok {
		return fmt.Errorf("%s is not supported by the PostGIS engine", e.Op)
	}
	side := func(o cql2.Operand) (string, error) {
		switch o := o.(type) {
		case cql2.Property:
			return "i.geom", nil
		case cql2.Geometry:
			if o.CRS != "" && o.CRS != "http://www.opengis.net/def/crs/OGC/1.3/CRS84" {
				return "", fmt.Errorf("geometries in %s are not supported by the PostGIS engine yet", o.CRS)
			}
			if bd, ok := o.G.(orb.Bound); ok {
				return fmt.Sprintf("ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
					t.q.arg(bd.Min[0]), t.q.arg(bd.Min[1]), t.q.arg(bd.Max[0]), t.q.arg(bd.Max[1])), nil
			}
			js, err := geojson.NewGeometry(o.G).MarshalJSON()
			if err != nil {
				return "", err
			}
			return "ST_SetSRID(ST_GeomFromGeoJSON(" + t.q.arg(string(js)) + "), 4326)", nil
		}
		return "", fmt.Errorf("%s is not a geometry", o)
	}
	a, err := side(e.A)
	if err != nil {
		return err
	}
	c, err := side(e.B)
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "%s(%s, %s)", fn, a, c)
	return nil
}
