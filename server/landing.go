package server

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// Conformance classes this server implements (OGC 17-069r4, 19-079). The
// list is what /conformance returns; keep it true to what is implemented.
var conformanceClasses = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
	// CQL2 (OGC 21-065): each class below is implemented whole; array
	// functions and custom functions are not, and are not listed.
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
	"http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
	"http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
	"http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
	"http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/property-property",
	"http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
	// Part 2: crs, bbox-crs and filter-crs (CRS84, EPSG:4326, 3857, UTM 37N–39N).
	"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
	// Part 4 (draft): POST, PUT, DELETE and PATCH of incidents (issue 5).
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
}

// landingData is the landing page document.
type landingData struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Links       []Link `json:"links"`
	// MapHref is where the HTML landing page sends people who want the map.
	// The page (branch "page") serves it at /map; to make / in a browser show
	// the map itself, have landing redirect HTML requests there.
	MapHref string `json:"-"`
}

// landing serves /: JSON for clients, a page with links for browsers.
func (h *handlers) landing(c *fiber.Ctx) error {
	f, err := negotiateDocument(c)
	if err != nil {
		return err
	}
	base := h.baseURL(c)
	d := landingData{
		Title: "incidentmap",
		Description: "Security incidents in Iraq (Anbar, Baghdad and the Kurdistan Region) as OGC API – Features: " +
			"GeoJSON for GIS tools, pages for people.",
		Links: []Link{
			{Href: base + "/", Rel: "self", Type: MediaJSON, Title: "this document"},
			{Href: base + "/?f=html", Rel: "alternate", Type: MediaHTML, Title: "this document as HTML"},
			{Href: base + "/api", Rel: "service-desc", Type: MediaOpenAPI, Title: "the API definition (OpenAPI 3.0)"},
			{Href: base + "/api?f=html", Rel: "service-doc", Type: MediaHTML, Title: "the API documentation"},
			{Href: base + "/conformance", Rel: "conformance", Type: MediaJSON, Title: "conformance classes implemented"},
			{Href: base + "/collections", Rel: "data", Type: MediaJSON, Title: "the feature collections"},
		},
		MapHref: base + "/map/",
	}
	if f == formatHTML && c.Query("f") == "" {
		// A browser asking for / wants the map; ?f=html still gives this page.
		return c.Redirect(d.MapHref, http.StatusSeeOther)
	}
	return h.render(c, f, resource{Media: MediaJSON, JSON: d, Page: "landing", Title: d.Title, Links: d.Links})
}

// conformance serves /conformance.
func (h *handlers) conformance(c *fiber.Ctx) error {
	f, err := negotiateDocument(c)
	if err != nil {
		return err
	}
	return h.render(c, f, resource{Media: MediaJSON, JSON: map[string][]string{"conformsTo": conformanceClasses},
		Page: "conformance", Title: "Conformance", View: conformanceClasses,
		Links: []Link{{Href: h.baseURL(c) + "/conformance", Rel: "alternate", Type: MediaJSON, Title: "as JSON"}}})
}
