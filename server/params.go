package server

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"incidentmap/crs"
	"incidentmap/geo"
	"incidentmap/incident"
)

// CRS84 is the default coordinate reference system: WGS 84 longitude,
// latitude, in which incidents are stored and GeoJSON is written.
const CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

// itemsParams lists every query parameter the items endpoint understands;
// anything else is refused so that a misspelt filter never silently matches all.
// It is derived from itemsParamDefs, the one table that also writes the
// OpenAPI document, so the parser and the document cannot disagree.
var itemsParams = paramNames(itemsParamDefs)

// itemsQuery is a parsed, validated items request.
type itemsQuery struct {
	filter       incident.Filter
	crs          *crs.CRS   // of the coordinates of the response (the crs parameter)
	props        []string   // properties= : only these, in this order; nil for all
	skipGeometry bool       // skipGeometry=true: "geometry": null
	raw          url.Values // the parameters as given, copied out of fiber's buffers, for links
}

// queryValues copies the query string into url.Values, refusing parameters not
// in allowed and parameters given twice.
func queryValues(c *fiber.Ctx, allowed []string) (url.Values, error) {
	vals := url.Values{}
	var unknown []string
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		key := string(k)
		if !contains(allowed, key) {
			unknown = append(unknown, key)
			return
		}
		vals[key] = append(vals[key], string(v))
	})
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &Error{Status: http.StatusBadRequest, Code: CodeUnknownParameter,
			Description: fmt.Sprintf("unknown parameter %q; this endpoint takes: %s", unknown[0], strings.Join(allowed, ", "))}
	}
	for k, v := range vals {
		if len(v) > 1 {
			return nil, badRequest(fmt.Sprintf("parameter %q is given %d times; give it once (lists are comma-separated)", k, len(v)))
		}
	}
	return vals, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseItemsQuery turns the items query string into a validated filter.
func (h *handlers) parseItemsQuery(c *fiber.Ctx) (itemsQuery, error) {
	return h.parseQuery(c, itemsParams)
}

// parseQuery is parseItemsQuery for an endpoint that allows only some of the
// items parameters (the regions collection's counts, for one): one parser,
// whatever subset an endpoint takes.
func (h *handlers) parseQuery(c *fiber.Ctx, allowed []string) (itemsQuery, error) {
	vals, err := queryValues(c, allowed)
	if err != nil {
		return itemsQuery{}, err
	}
	return parseValues(vals, h.cfg.DefaultLimit, h.cfg.MaxLimit)
}

// ParseFilter is the items parameter parser for callers outside HTTP (the
// export command): vals holds items parameters; unknown ones are refused.
// Without a limit the filter selects every matching row.
func ParseFilter(vals url.Values) (incident.Filter, error) {
	for k := range vals {
		if !contains(itemsParams, k) {
			return incident.Filter{}, fmt.Errorf("unknown parameter %q; the items parameters are: %s", k, strings.Join(itemsParams, ", "))
		}
	}
	q, err := parseValues(vals, 0, math.MaxInt)
	return q.filter, err
}

// parseValues turns items parameters into a validated filter.
func parseValues(vals url.Values, defaultLimit, maxLimit int) (itemsQuery, error) {
	var err error
	q := itemsQuery{raw: vals, filter: incident.Filter{Limit: defaultLimit}}
	f := &q.filter
	bboxCRS := crs.CRS84
	if s, ok := one(vals, "bbox-crs"); ok {
		if bboxCRS, err = crs.Lookup(s); err != nil {
			return q, badRequest("bbox-crs: " + err.Error())
		}
	}
	if s, ok := one(vals, "bbox"); ok {
		if err := parseBBox(s, bboxCRS, f); err != nil {
			return q, err
		}
	}
	q.crs = crs.CRS84
	if s, ok := one(vals, "crs"); ok {
		if q.crs, err = crs.Lookup(s); err != nil {
			return q, badRequest("crs: " + err.Error())
		}
	}
	if s, ok := one(vals, "datetime"); ok {
		iv, err := incident.ParseInterval(s)
		if err != nil {
			return q, badRequest(err.Error())
		}
		f.Interval = iv
	}
	if s, ok := one(vals, "limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, badRequest(fmt.Sprintf("limit %q must be a whole number of at least 1", s))
		}
		f.Limit = min(n, maxLimit) // the standard says clamp, not refuse
	}
	if s, ok := one(vals, "offset"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxOffset {
			return q, badRequest(fmt.Sprintf("offset %q must be a whole number from 0 to %d", s, maxOffset))
		}
		f.Offset = n
	}
	lists := []struct {
		name string
		dst  *[]string
	}{{"event_types", &f.EventTypes}, {"sub_event_types", &f.SubEventTypes}, {"regions", &f.Regions}, {"actors", &f.Actors}}
	for _, l := range lists {
		if s, ok := one(vals, l.name); ok {
			if *l.dst, err = splitList(l.name, s); err != nil {
				return q, err
			}
		}
	}
	bounds := []struct {
		name string
		dst  **int
	}{{"min_fatalities", &f.MinFatalities}, {"max_fatalities", &f.MaxFatalities}}
	for _, b := range bounds {
		if s, ok := one(vals, b.name); ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return q, badRequest(fmt.Sprintf("%s %q must be a whole number of at least 0", b.name, s))
			}
			*b.dst = &n
		}
	}
	if s, ok := one(vals, "q"); ok {
		if f.Text, err = incident.ParseText(s); err != nil {
			return q, badRequest(err.Error())
		}
		// Arabic words match however their letters are written, and Arabic
		// place names also match their English names (issue 14).
		if f.Text, err = expandArabic(f.Text); err != nil {
			return q, err
		}
	}
	if s, ok := one(vals, "updated_since"); ok {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return q, badRequest(fmt.Sprintf("updated_since %q must be an RFC 3339 date-time (2021-05-08T12:00:00Z)", s))
		}
		// updated_at is kept to the second: a fraction rounds down, so no
		// change in that second is missed.
		f.UpdatedSince = t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
	}
	if s, ok := one(vals, "sortby"); ok {
		if err := parseSortBy(s, f); err != nil {
			return q, err
		}
	}
	if s, ok := one(vals, "properties"); ok {
		q.props = []string{} // given empty: no properties at all
		if s != "" {
			for _, name := range strings.Split(s, ",") {
				if !geo.IsProperty(name) {
					return q, badRequest(fmt.Sprintf("properties: %q is not a property; they are: %s", name, strings.Join(geo.PropertyNames, ", ")))
				}
				if !contains(q.props, name) {
					q.props = append(q.props, name)
				}
			}
		}
	}
	if s, ok := one(vals, "skipGeometry"); ok {
		switch s {
		case "true":
			q.skipGeometry = true
		case "false":
		default:
			return q, badRequest(fmt.Sprintf("skipGeometry %q must be true or false", s))
		}
	}
	if err := parseFilter(vals, f); err != nil {
		return q, err
	}
	// A parameter named after a queryable is an equality test on the stored
	// value (Part 3, queryables-query-parameters): GDAL turns -where
	// "prop='v'" into prop=v and trusts it, so no lists, aliases or case
	// folding here; those have their own parameters above.
	for _, qb := range incidentQueryables {
		s, ok := one(vals, qb.Name)
		if !ok || qb.Column == "" {
			continue
		}
		if s == "" {
			return q, badRequest(fmt.Sprintf("%s is empty; a blank property is null: ask for it with filter=%s IS NULL", qb.Name, qb.Name))
		}
		v, err := qb.value(s)
		if err != nil {
			return q, badRequest(err.Error())
		}
		if !incident.IsField(qb.Name) {
			return q, fmt.Errorf("queryable %q has no stored field", qb.Name)
		}
		f.Equals = append(f.Equals, incident.Equal{Field: qb.Name, Value: v})
	}
	return q, nil
}

// maxOffset is the largest offset taken: 2^53, far beyond any table, and
// small enough that offset+limit never overflows and stays exact in JSON.
const maxOffset = 1 << 53

// one returns the single value of a parameter and whether it was given.
func one(vals url.Values, key string) (string, bool) {
	v, ok := vals[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// splitList splits a comma-separated parameter value, refusing empty entries.
func splitList(name, s string) ([]string, error) {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if parts[i] == "" {
			return nil, badRequest(fmt.Sprintf("%s %q has an empty entry", name, s))
		}
	}
	return parts, nil
}

// pageParams shape a page of items (paging, order, format, property
// selection) rather than select incidents: endpoints that take the items
// filters but return no page (tiles, events, aggregates) leave them out.
var pageParams = []string{"limit", "offset", "sortby", "f", "properties", "skipGeometry"}

// sortables are the queryables sortby may name: the fields the field table
// marks Sortable.
var sortables = func() []queryable {
	var out []queryable
	for _, q := range incidentQueryables {
		if f, ok := incident.FieldByName(q.Name); ok && f.Sortable {
			out = append(out, q)
		}
	}
	return out
}()

// parseSortBy reads sortby: relevance (with q), or one or more sortable
// names separated by commas, each with an optional + (ascending, the
// default; a + left unescaped in a URL arrives as a space) or - (descending).
// The store breaks ties by id, so every order pages totally.
func parseSortBy(s string, f *incident.Filter) error {
	if s == "relevance" {
		if len(f.Text) == 0 {
			return badRequest("sortby=relevance needs a q to rank by")
		}
		f.ByRelevance = true
		return nil
	}
	seen := map[string]bool{}
	for _, key := range strings.Split(s, ",") {
		desc := false
		switch {
		case strings.HasPrefix(key, "-"):
			desc, key = true, key[1:]
		case strings.HasPrefix(key, "+"), strings.HasPrefix(key, " "):
			key = key[1:]
		}
		ok := false
		for _, q := range sortables {
			ok = ok || q.Name == key
		}
		if !ok || !incident.IsField(key) {
			names := make([]string, len(sortables))
			for i, q := range sortables {
				names[i] = q.Name
			}
			return badRequest(fmt.Sprintf("sortby %q: %q is not sortable; use relevance (with q) or a comma-separated list of "+
				"these, each with an optional - for descending: %s (see /collections/incidents/sortables)", s, key, strings.Join(names, ", ")))
		}
		if seen[key] {
			return badRequest(fmt.Sprintf("sortby %q names %s twice", s, key))
		}
		seen[key] = true
		f.Sort = append(f.Sort, incident.SortKey{Field: key, Desc: desc})
	}
	if len(f.Sort) == 1 && f.Sort[0] == (incident.SortKey{Field: "id"}) {
		// The order the store has a fast path for (spatial pages in id order).
		f.Sort, f.ByID = nil, true
	}
	return nil
}
