package server

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"incidentmap/cql2"
	"incidentmap/crs"
	"incidentmap/geo"
	"incidentmap/incident"
)

// incidentTypes are the types of the incident's fields, for checking CQL2
// filters when they are parsed; the engines translate them (see incident.Fields).
var incidentTypes = func() cql2.Props {
	types := cql2.Props{}
	for _, f := range incident.Fields {
		types[f.Name] = map[incident.Kind]cql2.Type{
			incident.String: cql2.String, incident.Integer: cql2.Integer, incident.Number: cql2.Number,
			incident.Date: cql2.Date, incident.DateTime: cql2.DateTime, incident.Point: cql2.GeometryType,
		}[f.Kind]
	}
	return types
}()

// Filter languages of the filter parameter.
const (
	langText = "cql2-text"
	langJSON = "cql2-json"
)

// parseFilter reads filter, filter-lang and filter-crs into the CQL2
// condition of f: parsed, its geometry literals brought to CRS84 where that
// is exact (or kept in their projection, which the store tests points in),
// and checked against the queryables.
func parseFilter(vals url.Values, f *incident.Filter) error {
	lang := langText
	if s, ok := one(vals, "filter-lang"); ok {
		if s != langText && s != langJSON {
			return badRequest(fmt.Sprintf("filter-lang %q is not supported; use %s or %s", s, langText, langJSON))
		}
		lang = s
	}
	fc := crs.CRS84
	if s, ok := one(vals, "filter-crs"); ok {
		c, err := crs.Lookup(s)
		if err != nil {
			return badRequest("filter-crs: " + err.Error())
		}
		fc = c
	}
	s, ok := one(vals, "filter")
	if !ok {
		return nil
	}
	if len(s) > maxFilterLen {
		return badRequest(fmt.Sprintf("filter is %d bytes long; at most %d are accepted", len(s), maxFilterLen))
	}
	e, err := ParseCQL2([]byte(s), lang, fc)
	if err != nil {
		return err
	}
	f.Expr = andCQL2(f.Expr, e)
	return nil
}

// ParseCQL2 parses a filter in lang (cql2-text or cql2-json) with geometry
// literals in c, normalises the literals (see normalizeGeometry) and checks
// it against the incident queryables. Every fault is a 400 naming it. The
// search-by-POST form of items reads its body's filter through it too.
func ParseCQL2(src []byte, lang string, c *crs.CRS) (cql2.Expr, error) {
	uri := ""
	if c != crs.CRS84 {
		uri = c.URI
	}
	var e cql2.Expr
	var err error
	if lang == langJSON {
		e, err = cql2.ParseJSON(src, uri)
	} else {
		e, err = cql2.ParseCRS(string(src), uri)
	}
	if err == nil {
		e, err = cql2.MapGeometries(e, normalizeGeometry)
	}
	if err == nil {
		err = cql2.Check(e, incidentTypes)
	}
	if err != nil {
		var ce *cql2.Error
		if errors.As(err, &ce) {
			return nil, badRequest("filter: " + ce.Error())
		}
		return nil, badRequest("filter: " + err.Error())
	}
	return e, nil
}

// andCQL2 joins two conditions; either may be nil.
func andCQL2(a, b cql2.Expr) cql2.Expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return cql2.And{L: a, R: b}
}

// normalizeGeometry validates a geometry literal's coordinates for its CRS
// and rewrites EPSG:4326 (latitude first) as CRS84, which is exact. Projected
// literals keep their CRS: their straight edges are not straight in degrees,
// so the store projects each point into the literal's CRS instead.
func normalizeGeometry(g cql2.Geometry) (cql2.Geometry, error) {
	c := crs.CRS84
	if g.CRS != "" {
		var err error
		if c, err = crs.Lookup(g.CRS); err != nil {
			return g, err
		}
	}
	var bad error
	check := func(p orb.Point) {
		if bad != nil {
			return
		}
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
			bad = &cql2.Error{Pos: g.Pos, Msg: "geometry coordinates must be finite"}
			return
		}
		lon, lat := c.Inverse(p[0], p[1])
		if c.Projected {
			if !validLonLat(lon, lat) {
				bad = &cql2.Error{Pos: g.Pos, Msg: fmt.Sprintf("position (%g %g) is outside the area of %s", p[0], p[1], c.URI)}
			}
			return
		}
		if lon < -180 || lon > 180 || lat < -90 || lat > 90 {
			order := "longitude, latitude"
			if c.LatFirst {
				order = "latitude, longitude (EPSG:4326 order)"
			}
			bad = &cql2.Error{Pos: g.Pos, Msg: fmt.Sprintf("position (%g %g) is not %s within -180..180, -90..90", p[0], p[1], order)}
		}
	}
	mapPoints(g.G, func(p orb.Point) orb.Point { check(p); return p })
	if bad != nil {
		return g, bad
	}
	if c == crs.CRS84 || c.Projected {
		if c == crs.CRS84 {
			g.CRS = ""
		}
		return g, nil
	}
	// EPSG:4326: swap the axes into CRS84.
	g.G = mapPoints(orb.Clone(g.G), func(p orb.Point) orb.Point {
		lon, lat := c.Inverse(p[0], p[1])
		return orb.Point{lon, lat}
	})
	if b, ok := g.G.(orb.Bound); ok {
		g.G = orb.Bound{Min: orb.Point{b.Min[1], b.Min[0]}, Max: orb.Point{b.Max[1], b.Max[0]}}
	}
	g.CRS = ""
	return g, nil
}

// mapPoints applies fn to every position of g in place (g is returned for
// the value types, Point and Bound, which cannot change in place).
func mapPoints(g orb.Geometry, fn func(orb.Point) orb.Point) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		return fn(g)
	case orb.MultiPoint:
		for i := range g {
			g[i] = fn(g[i])
		}
	case orb.LineString:
		for i := range g {
			g[i] = fn(g[i])
		}
	case orb.MultiLineString:
		for _, l := range g {
			mapPoints(l, fn)
		}
	case orb.Ring:
		for i := range g {
			g[i] = fn(g[i])
		}
	case orb.Polygon:
		for _, r := range g {
			mapPoints(r, fn)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			mapPoints(p, fn)
		}
	case orb.Collection:
		for i := range g {
			g[i] = mapPoints(g[i], fn)
		}
	case orb.Bound:
		fn(g.Min)
		fn(g.Max)
	}
	return g
}

// parseBBox reads the bbox parameter in the CRS of bbox-crs into f. CRS84
// and EPSG:4326 (axes swapped) give f.BBox exactly, as does Web Mercator
// (its x depends on longitude only, its y on latitude only). A UTM box is
// not a longitude/latitude box: f.BBox gets the box around it (for the
// index and for regions, which are selected by box), and the exact test —
// the point projected into the zone lies in the box — joins the CQL2
// condition.
func parseBBox(s string, c *crs.CRS, f *incident.Filter) error {
	parts := strings.Split(s, ",")
	if c.LatFirst && (len(parts) == 4 || len(parts) == 6) {
		// lat,lon,lat,lon (or with heights) in CRS84's order, so that one
		// parser validates every geographic box.
		n := len(parts) / 2
		for _, k := range []int{0, n} {
			parts[k], parts[k+1] = parts[k+1], parts[k]
		}
	}
	if !c.Projected {
		b, err := geo.ParseBBox(strings.Join(parts, ","))
		if err != nil {
			return badRequest(err.Error())
		}
		f.BBox = &b
		return nil
	}
	if len(parts) != 4 && len(parts) != 6 {
		return badRequest(fmt.Sprintf("bbox needs 4 or 6 comma-separated numbers, got %d", len(parts)))
	}
	nums := make([]float64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return badRequest(fmt.Sprintf("bbox value %d (%q) is not a finite number", i+1, p))
		}
		nums[i] = v
	}
	b := orb.Bound{Min: orb.Point{nums[0], nums[1]}, Max: orb.Point{nums[2], nums[3]}}
	if len(nums) == 6 {
		b = orb.Bound{Min: orb.Point{nums[0], nums[1]}, Max: orb.Point{nums[3], nums[4]}}
	}
	if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
		return badRequest(fmt.Sprintf("bbox %s: the minimum must come before the maximum on each axis", s))
	}
	if c == crs.EPSG3857 {
		minLon, minLat := c.Inverse(b.Min[0], b.Min[1])
		maxLon, maxLat := c.Inverse(b.Max[0], b.Max[1])
		lb := orb.Bound{Min: orb.Point{math.Max(-180, minLon), minLat}, Max: orb.Point{math.Min(180, maxLon), maxLat}}
		f.BBox = &lb
		return nil
	}
	for _, p := range []orb.Point{b.Min, b.Max, {b.Min[0], b.Max[1]}, {b.Max[0], b.Min[1]}} {
		if lon, lat := c.Inverse(p[0], p[1]); !validLonLat(lon, lat) {
			return badRequest(fmt.Sprintf("bbox %s: corner (%g %g) is outside the area of %s", s, p[0], p[1], c.URI))
		}
	}
	lit := cql2.Geometry{G: b, CRS: c.URI}
	minLon, minLat, maxLon, maxLat := c.LonLatBox(b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	f.BBox = &orb.Bound{Min: orb.Point{minLon, minLat}, Max: orb.Point{maxLon, maxLat}}
	f.Expr = andCQL2(f.Expr, cql2.Spatial{Op: "S_INTERSECTS", A: cql2.Property{Name: "geometry"}, B: lit})
	return nil
}

// validLonLat reports whether an inverse projection gave a real position;
// far outside a projection's area (a UTM easting of 10,000 km, say) the
// series give NaN or nonsense.
func validLonLat(lon, lat float64) bool {
	const eps = 1e-9 // the corners of Web Mercator's square land on ±180 give or take rounding
	return lon >= -180-eps && lon <= 180+eps && lat >= -90-eps && lat <= 90+eps
}
