package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"incidentmap/geo"
	"incidentmap/importer"
	"incidentmap/incident"
)

// Limits of an aggregation request.
const (
	// aggregateDefaultLimit is how many combinations of non-time keys an
	// aggregation returns when the client names no limit.
	aggregateDefaultLimit = 1000
	// aggregateMaxLimit bounds limit; a larger one is clamped.
	aggregateMaxLimit = 100000
	// aggregateMaxKeys bounds group_by.
	aggregateMaxKeys = 3
)

// aggregatePath is the aggregation endpoint of the incidents.
const aggregatePath = "/collections/incidents/aggregate"

// aggregateOwnParamDefs are the parameters only the aggregation has; the
// rest are the items filters (aggregateParamDefs).
var aggregateOwnParamDefs = []paramDef{
	{Name: "group_by", List: true,
		Description: "One to three keys to group by, in the order the groups nest: day, week, month, year (each the first day " +
			"of its bucket as YYYY-MM-DD; a week starts on Monday), event_type, sub_event_type, region, admin1, actor1, actor2.",
		Schema: map[string]any{"type": "array", "minItems": 1, "maxItems": aggregateMaxKeys,
			"items": map[string]any{"type": "string", "enum": groupKeyNames()}}},
	{Name: "limit", Description: "At most this many combinations of the non-time keys, those with most incidents " +
		"(every time bucket of each is kept); numberMatched and fatalities still add up every match. Ignored when " +
		"grouping by time only.",
		Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": aggregateMaxLimit, "default": aggregateDefaultLimit}},
	{Name: "f", Description: "Response format: json (the default) or csv (one row per group).",
		Schema: map[string]any{"type": "string", "enum": []string{"json", "csv"}}},
}

// aggregateParamDefs are the aggregation's parameters: its own, then every
// items filter (not paging, order or format), parsed by the items parser.
var aggregateParamDefs = append(append([]paramDef{}, aggregateOwnParamDefs...), func() []paramDef {
	var out []paramDef
	for _, d := range itemsParamDefs {
		if contains(pageParams, d.Name) || d.Name == "crs" { // groups have no geometry
			continue
		}
		out = append(out, d)
	}
	return out
}()...)

// aggregateParams are the names aggregateParamDefs allow.
var aggregateParams = paramNames(aggregateParamDefs)

func groupKeyNames() []string {
	out := make([]string, len(incident.GroupKeys))
	for i, k := range incident.GroupKeys {
		out[i] = string(k)
	}
	return out
}

// aggregateQuery is a parsed aggregation request.
type aggregateQuery struct {
	keys   []incident.GroupKey
	limit  int
	csv    bool
	filter incident.Filter
	raw    url.Values // every parameter as given, for links
}

// parseAggregate reads an aggregation request: its own parameters here, the
// filters by the items parser, so that they mean exactly what they mean for
// items, tiles and exports.
func parseAggregate(c *fiber.Ctx) (aggregateQuery, error) {
	vals, err := queryValues(c, aggregateParams)
	if err != nil {
		return aggregateQuery{}, err
	}
	q := aggregateQuery{limit: aggregateDefaultLimit, raw: vals}
	s, ok := one(vals, "group_by")
	if !ok {
		return q, badRequest("group_by is required: one to three of " + strings.Join(groupKeyNames(), ", "))
	}
	names, err := splitList("group_by", s)
	if err != nil {
		return q, err
	}
	if len(names) > aggregateMaxKeys {
		return q, badRequest(fmt.Sprintf("group_by %q has %d keys; at most %d", s, len(names), aggregateMaxKeys))
	}
	for _, n := range names {
		k, ok := incident.ParseGroupKey(n)
		if !ok {
			return q, badRequest(fmt.Sprintf("group_by key %q is not offered; use %s", n, strings.Join(groupKeyNames(), ", ")))
		}
		for _, prev := range q.keys {
			if prev == k {
				return q, badRequest(fmt.Sprintf("group_by key %q is given twice", n))
			}
		}
		q.keys = append(q.keys, k)
	}
	if s, ok := one(vals, "limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, badRequest(fmt.Sprintf("limit %q must be a whole number of at least 1", s))
		}
		q.limit = min(n, aggregateMaxLimit)
	}
	if s, ok := one(vals, "f"); ok {
		switch s {
		case "json":
		case "csv":
			q.csv = true
		default:
			return q, &Error{Status: http.StatusNotAcceptable, Code: CodeNotAcceptable,
				Description: fmt.Sprintf("format f=%q is not offered; use f=json or f=csv", s)}
		}
	}
	filters := url.Values{}
	for k, v := range vals {
		if k != "group_by" && k != "limit" && k != "f" {
			filters[k] = v
		}
	}
	iq, err := parseValues(filters, 0, math.MaxInt)
	if err != nil {
		return q, err
	}
	q.filter = iq.filter
	q.filter.Limit, q.filter.Offset = 0, 0
	return q, nil
}

// aggregate serves GET /collections/incidents/aggregate: incidents counted
// and fatalities summed per group, as JSON or CSV.
func (h *handlers) aggregate(c *fiber.Ctx) error {
	q, err := parseAggregate(c)
	if err != nil {
		return err
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	agg, err := h.store.Aggregate(ctx, q.filter, q.keys, q.limit)
	if err != nil {
		return fmt.Errorf("aggregate: %w", err)
	}
	if q.csv {
		body, err := aggregateCSV(&agg)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `inline; filename="incidents-aggregate.csv"`)
		return c.Send(body)
	}
	base := h.baseURL(c)
	withF := func(f string) string { return pageHref(base, aggregatePath, withParam(q.raw, "f", f), 0) }
	items := withParam(q.raw, "f", "")
	for _, k := range []string{"f", "group_by", "limit"} {
		items.Del(k)
	}
	links := []Link{
		{Href: pageHref(base, aggregatePath, q.raw, 0), Rel: "self", Type: MediaJSON, Title: "this aggregation"},
		{Href: withF("csv"), Rel: "alternate", Type: "text/csv", Title: "this aggregation as CSV"},
		{Href: base + "/collections/incidents", Rel: "collection", Type: MediaJSON, Title: "the collection"},
		{Href: pageHref(base, "/collections/incidents/items", items, 0), Rel: "items", Type: MediaGeoJSON, Title: "the incidents aggregated"},
	}
	body, err := aggregateJSON(&agg, links)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, MediaJSON)
	return c.Send(body)
}

// aggregateJSON writes an aggregation as the JSON document: groupBy, groups
// (each its keys by name, count and fatalities), numberMatched, fatalities,
// groupsMatched, timeStamp and links.
func aggregateJSON(a *incident.Aggregation, links []Link) ([]byte, error) {
	lj, err := marshalLinks(links)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 256+len(a.Groups)*80)
	b = append(b, `{"groupBy":[`...)
	for i, k := range a.Keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = geo.AppendString(b, string(k))
	}
	b = append(b, `],"groups":[`...)
	for gi := range a.Groups {
		g := &a.Groups[gi]
		if gi > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		for i, k := range a.Keys {
			b = geo.AppendString(b, string(k))
			b = append(b, ':')
			b = geo.AppendString(b, g.Keys[i])
			b = append(b, ',')
		}
		b = append(b, `"count":`...)
		b = strconv.AppendInt(b, g.Count, 10)
		b = append(b, `,"fatalities":`...)
		b = strconv.AppendInt(b, g.Fatalities, 10)
		b = append(b, '}')
	}
	b = append(b, `],"numberMatched":`...)
	b = strconv.AppendInt(b, a.Count, 10)
	b = append(b, `,"fatalities":`...)
	b = strconv.AppendInt(b, a.Fatalities, 10)
	b = append(b, `,"groupsMatched":`...)
	b = strconv.AppendInt(b, int64(a.GroupsMatched), 10)
	b = append(b, `,"groupsReturned":`...)
	b = strconv.AppendInt(b, int64(len(a.Groups)), 10)
	b = append(b, `,"timeStamp":`...)
	b = geo.AppendString(b, time.Now().UTC().Format(time.RFC3339))
	b = append(b, `,"links":`...)
	b = append(b, lj...)
	return append(b, "}\n"...), nil
}

// aggregateCSV writes an aggregation as CSV: a header of the keys, count and
// fatalities, then one row per group.
func aggregateCSV(a *incident.Aggregation) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	row := make([]string, 0, len(a.Keys)+2)
	for _, k := range a.Keys {
		row = append(row, string(k))
	}
	if err := w.Write(append(row, "count", "fatalities")); err != nil {
		return nil, fmt.Errorf("aggregate csv: %w", err)
	}
	for _, g := range a.Groups {
		row = row[:0]
		for _, v := range g.Keys {
			row = append(row, csvText(v))
		}
		row = append(row, strconv.FormatInt(g.Count, 10), strconv.FormatInt(g.Fatalities, 10))
		if err := w.Write(row); err != nil {
			return nil, fmt.Errorf("aggregate csv: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("aggregate csv: %w", err)
	}
	return buf.Bytes(), nil
}

// csvText keeps a text value from being read as a formula by a spreadsheet
// (an actor named "=HYPERLINK(…)"), by the same rule as the items CSV
// (importer.EscapeCSVText: a leading apostrophe, as OWASP advises).
func csvText(s string) string {
	return importer.EscapeCSVText(s)
}

// warmAggregates computes the aggregations the map page asks for first —
// the timeline and the counts per type, region and actor over all
// incidents — into the store's cache, after warmTiles: at a million
// incidents they take 0.2–0.5 s each, and a new visitor should not wait.
func (h *handlers) warmAggregates(ctx context.Context) {
	start := time.Now()
	// One query each (see store.groupColumns): event_type also serves
	// day/week/month/year, alone or × event_type; region also serves admin1.
	for _, keys := range [][]incident.GroupKey{{incident.GroupEventType}, {incident.GroupRegion},
		{incident.GroupActor1}, {incident.GroupActor2}} {
		if _, err := h.store.Aggregate(ctx, incident.Filter{}, keys, 0); err != nil {
			h.log.Warn("warm aggregates", "group_by", keys, "err", err)
			return
		}
	}
	h.log.Info("warmed aggregates", "ms", time.Since(start).Milliseconds())
}
