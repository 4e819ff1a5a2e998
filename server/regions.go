package server

import (
	"context"
	"fmt"
	"incidentmap/incident"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"incidentmap/geo"
)

// regionsParamDefs are the parameters of /collections/regions/items: paging,
// a bbox that selects regions, and the incident filters the counts follow.
var regionsParamDefs = append([]paramDef{
	{Name: "bbox", List: true,
		Description: "Only regions whose bounding box meets this box: minLon,minLat,maxLon,maxLat (or 6 numbers with heights), CRS84.",
		Schema:      map[string]any{"type": "array", "minItems": 4, "maxItems": 6, "items": map[string]any{"type": "number"}}},
	{Name: "datetime",
		Description: "Count only incidents on this date or in this interval (start/end, either side may be '..').",
		Schema:      map[string]any{"type": "string"}},
}, append(pickParamDefs(itemsParamDefs, "bbox-crs", "limit", "offset", "f"), regionCountFilters()...)...)

// regionsParams are the names regionsParamDefs allow.
var regionsParams = paramNames(regionsParamDefs)

// regionItemParams are what one region's page takes: the format and the
// incident filters its counts follow.
var regionItemParams = append([]string{"f", "datetime"}, paramNames(regionCountFilters())...)

// regionCountFilters are the items filters the regions' counts follow, so a
// choropleth counts exactly what the map shows: all of them but the bbox
// (which here selects regions), datetime (described for counts above), and
// paging, order, format and CRS, which are the regions' own or meaningless.
func regionCountFilters() []paramDef {
	var out []paramDef
	for _, d := range itemsParamDefs {
		switch d.Name {
		case "bbox", "bbox-crs", "datetime", "limit", "offset", "f", "sortby", "crs":
			continue
		}
		out = append(out, d)
	}
	return out
}

// pickParamDefs returns the definitions in defs with these names, so that a
// parameter the regions share with the incidents is documented once.
func pickParamDefs(defs []paramDef, names ...string) []paramDef {
	var out []paramDef
	for _, d := range defs {
		if contains(names, d.Name) {
			out = append(out, d)
		}
	}
	return out
}

// regionQueryables: the regions are filtered by bbox only; the geometry is
// listed so that clients know its type.
var regionQueryables = []queryable{
	{Name: "geometry", Title: "Boundary (WGS 84 polygon)", Format: "geometry-polygon"},
}

// regionsCollection declares the governorates collection (issue 3).
func (h *handlers) regionsCollection() collection {
	return collection{
		ID:    "regions",
		Title: "Regions of Iraq",
		Description: "Iraq's governorates (Natural Earth 1:10m admin-1, public domain) with the number of incidents " +
			"and fatalities in each, for the same filters as the incidents (all but bbox, which selects regions). region groups " +
			"Erbil, Duhok and Sulaymaniyah as the Kurdistan Region; region_incidents counts the whole group.",
		Extent:      h.regionsExtent,
		Queryables:  regionQueryables,
		ItemsParams: regionsParamDefs,
		Items:       h.regionItems,
		Item:        h.regionItem,
	}
}

func (h *handlers) regionsExtent(ctx context.Context) (extent, error) {
	b, ok, err := h.store.RegionsBound(ctx)
	if err != nil || !ok {
		return extent{}, err
	}
	return extent{BBox: &b}, nil
}

// regionsPage is the data of the regions HTML page.
type regionsPage struct {
	Single                 bool // one region's page: no paging to describe
	Matched, Limit, Offset int
	Regions                []incident.RegionStats
}

// regionItems serves the regions with their counts. The list is bounded by
// the regions table (18 polygons, under 100 KB), so it is built whole.
func (h *handlers) regionItems(c *fiber.Ctx) error {
	q, err := h.parseQuery(c, regionsParams)
	if err != nil {
		return err
	}
	format, err := negotiate(c)
	if err != nil {
		return err
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	list, err := h.store.Regions(ctx, incident.RegionQuery{Incidents: q.filter, BBox: q.filter.BBox})
	if err != nil {
		return fmt.Errorf("regions: %w", err)
	}
	matched := len(list)
	f := q.filter
	// The parser bounds offset (maxOffset) so that offset+limit cannot wrap.
	start := min(f.Offset, matched)
	page := list[start:min(start+f.Limit, matched)]
	links := h.itemsLinks(c, utils.CopyString(c.Path()), q, hasNext(q.filter, int64(matched)), format)
	body, err := collectionHead(links, int64(matched), nil)
	if err != nil {
		return err
	}
	for i := range page {
		if i > 0 {
			body = append(body, ',')
		}
		body = appendRegionFeature(body, &page[i])
	}
	body = append(body, `],"numberReturned":`...)
	body = strconv.AppendInt(body, int64(len(page)), 10)
	body = append(body, '}')
	return h.render(c, format, resource{Media: MediaGeoJSON, JSON: body, Page: "regions", Title: "Regions of Iraq", Links: links,
		View: regionsPage{Matched: matched, Limit: f.Limit, Offset: f.Offset, Regions: page}})
}

// regionItem serves one region, its fid being the ISO 3166-2 code.
func (h *handlers) regionItem(c *fiber.Ctx) error {
	q, err := h.parseQuery(c, regionItemParams)
	if err != nil {
		return err
	}
	format, err := negotiate(c)
	if err != nil {
		return err
	}
	iso := strings.ToUpper(utils.CopyString(c.Params("fid")))
	ctx, cancel := h.requestContext(c)
	defer cancel()
	r, err := h.store.Region(ctx, iso, q.filter)
	if err != nil {
		return err
	}
	base := h.baseURL(c)
	self := base + "/collections/regions/items/" + r.ISO
	ll := []Link{
		{Href: self, Rel: "self", Type: MediaGeoJSON, Title: "this feature"},
		{Href: self + "?f=html", Rel: "alternate", Type: MediaHTML, Title: "this feature as HTML"},
		{Href: base + "/collections/regions", Rel: "collection", Type: MediaJSON, Title: "the collection"},
		{Href: base + "/collections/incidents/items?regions=" + r.ISO, Rel: "related", Type: MediaGeoJSON, Title: "the incidents in " + r.Name},
	}
	links, err := marshalLinks(ll)
	if err != nil {
		return err
	}
	body := appendRegionFeature(nil, &r)
	body = append(body[:len(body)-1], `,"links":`...)
	body = append(append(body, links...), '}')
	return h.render(c, format, resource{Media: MediaGeoJSON, JSON: body, Page: "regions", Title: r.Name + " (" + r.ISO + ")",
		Links: featurePageLinks(ll, self), View: regionsPage{Single: true, Matched: 1, Limit: 1, Regions: []incident.RegionStats{r}}})
}

// featurePageLinks are a feature's links as its HTML page lists them: the
// page itself is self, the GeoJSON the alternate.
func featurePageLinks(ll []Link, self string) []Link {
	out := append([]Link(nil), ll...)
	out[0], out[1] = Link{Href: self + "?f=html", Rel: "self", Type: MediaHTML, Title: "this feature"},
		Link{Href: self + "?f=json", Rel: "alternate", Type: MediaGeoJSON, Title: "this feature as GeoJSON"}
	return out
}

// appendRegionFeature appends r as a GeoJSON Feature whose id is its ISO code.
func appendRegionFeature(dst []byte, r *incident.RegionStats) []byte {
	dst = append(dst, `{"type":"Feature","id":`...)
	dst = geo.AppendString(dst, r.ISO)
	dst = append(dst, `,"geometry":`...)
	dst = append(dst, r.Geometry...)
	dst = append(dst, `,"properties":{"iso_3166_2":`...)
	dst = geo.AppendString(dst, r.ISO)
	dst = append(dst, `,"name":`...)
	dst = geo.AppendString(dst, r.Name)
	dst = append(dst, `,"name_source":`...)
	dst = geo.AppendString(dst, r.NameSource)
	dst = append(dst, `,"name_ar":`...)
	dst = geo.AppendString(dst, r.NameAr)
	dst = append(dst, `,"region":`...)
	dst = geo.AppendString(dst, r.Region)
	for _, n := range []struct {
		name string
		v    int64
	}{{"incidents", r.Incidents}, {"fatalities", r.Fatalities},
		{"region_incidents", r.RegionIncidents}, {"region_fatalities", r.RegionFatalities}} {
		dst = append(dst, `,"`...)
		dst = append(dst, n.name...)
		dst = append(dst, `":`...)
		dst = strconv.AppendInt(dst, n.v, 10)
	}
	return append(dst, "}}"...)
}
