package server

import (
	"incidentmap/crs"
	"incidentmap/geo"
	"incidentmap/incident"
)

// paramDef is one query parameter: its name is what the parser allows, and the
// rest is what the OpenAPI document says of it.
type paramDef struct {
	Name        string
	Description string
	Schema      map[string]any // OpenAPI 3.0 schema object
	List        bool           // comma-separated list: style form, explode false
	Required    bool
}

// itemsParamDefs are the parameters of /collections/{id}/items, in the order
// the OpenAPI document lists them. Add a parameter here and both the parser's
// allowed list (itemsParams) and /api learn it; append, don't reorder.
var itemsParamDefs = append([]paramDef{
	{Name: "bbox", List: true,
		Description: "Only features inside this box: minLon,minLat,maxLon,maxLat (or 6 numbers with heights), CRS84.",
		Schema:      map[string]any{"type": "array", "minItems": 4, "maxItems": 6, "items": map[string]any{"type": "number"}}},
	{Name: "bbox-crs", Description: "CRS of bbox (OGC API Features Part 2): CRS84 (the default, longitude first), " +
		"EPSG:4326 (latitude first), EPSG:3857 or the UTM zones 37N–39N (metres; a UTM box selects exactly the points " +
		"whose projection lies in it). Any other CRS is a 400 listing these.",
		Schema: map[string]any{"type": "string", "format": "uri", "enum": crs.URIs(), "default": CRS84}},
	{Name: "datetime",
		Description: "Date or RFC 3339 date-time, or an interval start/end where either side may be '..'.",
		Schema:      map[string]any{"type": "string"}},
	// limit's default and maximum come from the configuration; see openAPI.
	{Name: "limit", Description: "Features per page; a larger value is clamped to the maximum.",
		Schema: map[string]any{"type": "integer", "minimum": 1}},
	{Name: "offset", Description: "Skip this many features (the next links carry it).",
		Schema: map[string]any{"type": "integer", "minimum": 0, "maximum": maxOffset, "default": 0}},
	{Name: "f", Description: "Response format: the paged GeoJSON (json or geojson) or html; without it the Accept header decides. " +
		"Downloads of ALL matching features are at /collections/incidents/download; f=geojsonseq, csv, kml and gpkg here are its older aliases.",
		Schema: map[string]any{"type": "string", "enum": []string{"json", "html", "geojson", "geojsonseq", "csv", "kml", "gpkg"}}},
	{Name: "event_types", List: true, Description: "Any of these ACLED event types (exact values, comma-separated). " +
		"event_type=X is the equality test on one value.",
		Schema: map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": incident.EventTypes}}},
	{Name: "sub_event_types", List: true, Description: "Any of these ACLED sub-event types (exact values, comma-separated). " +
		"sub_event_type=X is the equality test on one value.",
		Schema: map[string]any{"type": "array", "items": map[string]any{"type": "string"}}},
	{Name: "regions", List: true, Description: "Any of these regions, governorates (admin1) or ISO 3166-2 codes (IQ-AN; IQ-KR is the Kurdistan Region), " +
		"case-insensitive, comma-separated. region=X and admin1=X are the equality tests on one stored value.",
		Schema: map[string]any{"type": "array", "items": map[string]any{"type": "string"}}},
	{Name: "actors", List: true, Description: "Any of these actors, as first or second actor (exact values, comma-separated). " +
		"actor1=X and actor2=X are the equality tests on one field.",
		Schema: map[string]any{"type": "array", "items": map[string]any{"type": "string"}}},
	{Name: "min_fatalities", Description: "At least this many fatalities.",
		Schema: map[string]any{"type": "integer", "minimum": 0}},
	{Name: "max_fatalities", Description: "At most this many fatalities.",
		Schema: map[string]any{"type": "integer", "minimum": 0}},
	{Name: "filter", Description: "A CQL2 filter (OGC 21-065) over the queryables, in cql2-text or cql2-json (filter-lang): " +
		"AND, OR, NOT; = <> < <= > >=, IS NULL; LIKE, BETWEEN, IN; CASEI() and ACCENTI(); arithmetic + - * / % div ^; " +
		"comparisons between properties; DATE(), TIMESTAMP(), INTERVAL() and the temporal functions T_AFTER, T_BEFORE, " +
		"T_CONTAINS, T_DISJOINT, T_DURING, T_EQUALS, T_FINISHEDBY, T_FINISHES, T_INTERSECTS, T_MEETS, T_METBY, " +
		"T_OVERLAPPEDBY, T_OVERLAPS, T_STARTEDBY, T_STARTS (a date spans its whole day against date-times); the spatial " +
		"functions S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_EQUALS, S_TOUCHES, S_OVERLAPS, S_CROSSES with POINT, " +
		"LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION (S_INTERSECTS and S_DISJOINT " +
		"only) or BBOX, e.g. S_INTERSECTS(geometry, POLYGON((43 33, 44 33, 44 34, 43 33))). Refused with a 400 naming the " +
		"part: other functions, array functions (no queryable is an array), a spatial function between two literals.",
		Schema: map[string]any{"type": "string", "maxLength": maxFilterLen}},
	{Name: "filter-lang", Description: "Language of filter: cql2-text (the default) or cql2-json (the JSON encoding, URL-encoded).",
		Schema: map[string]any{"type": "string", "enum": []string{langText, langJSON}, "default": langText}},
	{Name: "filter-crs", Description: "CRS of the geometry literals in filter: the CRS of bbox-crs's list (CRS84 by default). " +
		"Projected literals (EPSG:3857, UTM) are tested in their own CRS, so their straight edges stay straight.",
		Schema: map[string]any{"type": "string", "format": "uri", "enum": crs.URIs(), "default": CRS84}},
	{Name: "q", Description: "Free-text search over notes, actors, location and source (every word must match; " +
		`"quoted words" are a phrase; word* is a prefix). Arabic words match in any spelling of alef, ta marbuta ` +
		`and alef maqsura, without short vowels or tatweel, and an Arabic place name also matches its English name (بغداد: Baghdad).`,
		Schema: map[string]any{"type": "string"}},
	{Name: "sortby", List: true, Description: "Order of the features: one or more sortable properties (see " +
		"/collections/incidents/sortables), comma-separated, each with an optional + (ascending, the default) or - " +
		"(descending): sortby=-fatalities,event_date. Ties are broken by id (in the last key's direction), so paging " +
		"is total. Or relevance: best full-text matches first, then id (needs q). Without sortby the order is by id, " +
		"or with a bbox spatial (the Z-order of the points, then id), which pages a large bbox fast.",
		Schema: map[string]any{"type": "array", "items": map[string]any{"type": "string", "pattern": "^[+-]?[a-z_0-9]+$"}}},
	{Name: "updated_since", Description: "Only incidents changed (created or updated) at or after this RFC 3339 instant, " +
		"to the second. Deletions are not features: a syncing client reads them from /collections/incidents/changes.",
		Schema: map[string]any{"type": "string", "format": "date-time"}},
	{Name: "properties", List: true, Description: "Only these properties in each feature, in this order " +
		"(comma-separated; empty for none); the id is always there. GeoJSON pages only.",
		Schema: map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": geo.PropertyNames}}},
	{Name: "skipGeometry", Description: "true: each feature's geometry is null (smaller pages for tables). GeoJSON pages only.",
		Schema: map[string]any{"type": "boolean", "default": false}},
	{Name: "crs", Description: "CRS of the coordinates of the GeoJSON response (OGC API Features Part 2): any of bbox-crs's " +
		"list. The response says which in its Content-Crs header (and a coordRefSys member); EPSG:4326 puts latitude first. " +
		"Pages (f=json) and single features take it; the HTML page and the downloads are CRS84 and refuse another.",
		Schema: map[string]any{"type": "string", "format": "uri", "enum": crs.URIs(), "default": CRS84}},
}, propertyParamDefs(incidentQueryables)...)

// maxFilterLen bounds a CQL2 filter's length in bytes: room for the WKT of
// any governorate outline at full precision (Erbil's is about 10 KB), within
// the 16 KB the server reads of a request line and headers.
const maxFilterLen = 16 << 10

// propertyParamDefs are the equality parameters (name=value) of the
// queryables but the geometry, as the Part 3 class
// "queryables-query-parameters" asks: one value, compared exactly as stored.
func propertyParamDefs(qs []queryable) []paramDef {
	var out []paramDef
	for _, q := range qs {
		if q.Column == "" {
			continue
		}
		out = append(out, paramDef{Name: q.Name, Schema: q.schema(),
			Description: q.Title + ": equal to this one value exactly, as stored (no lists, no case folding)."})
	}
	return out
}

// fParamDef is the one parameter every non-items resource takes.
// downloadParamDefs are the parameters of the download: the items filters
// and limit/offset (which cut the file), and f, the file format, required.
var downloadParamDefs = func() []paramDef {
	var out []paramDef
	for _, d := range itemsParamDefs {
		switch d.Name {
		case "f":
			out = append(out, paramDef{Name: "f", Required: true, Description: "File format: geojson (one FeatureCollection), " +
				"geojsonseq (RFC 8142 text sequence), csv (ACLED columns), kml, gpkg (GeoPackage). Every matching feature; limit and offset, when given, cut it.",
				Schema: map[string]any{"type": "string", "enum": []string{"geojson", "geojsonseq", "csv", "kml", "gpkg"}}})
		case "properties", "skipGeometry", "crs":
			// They shape GeoJSON pages; a file holds every property in CRS84.
		default:
			out = append(out, d)
		}
	}
	return out
}()

var fParamDef = paramDef{Name: "f", Description: "Response format; without it the Accept header decides.",
	Schema: map[string]any{"type": "string", "enum": []string{"json", "html"}}}

// paramNames lists the names of defs, for queryValues.
func paramNames(defs []paramDef) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.Name
	}
	return out
}
