package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb"
)

// collection is one feature collection of the API, declared once: the
// /collections list, /collections/{id}, its items, one item, its queryables
// and the paths of the OpenAPI document are all built from the registry.
//
// To add a collection (the regions collection, for one), write in your own
// file a method on *handlers that returns a collection — see
// incidentsCollection — and append it to the list in (*handlers).collections.
// Items and Item are ordinary fiber handlers: they validate their own query
// string (queryValues with ItemsParams' names), call negotiate for HTML or
// JSON, and stream the response. Queryables may be empty; then the collection
// still gets a /queryables document with only its geometry.
type collection struct {
	ID          string
	Title       string
	Description string
	// Extent computes the collection's extent from the data (nil: no extent).
	Extent func(ctx context.Context) (extent, error)
	// Queryables are the properties filters may name, in the order listed.
	Queryables []queryable
	// CRS lists the URIs of the CRSs Items and Item can answer in (Part 2);
	// the first is the default. nil means CRS84 only.
	CRS []string
	// ItemsParams are the query parameters of Items, for the OpenAPI document.
	ItemsParams []paramDef
	Items       fiber.Handler // GET /collections/{id}/items
	Item        fiber.Handler // GET /collections/{id}/items/{fid}; fid is c.Params("fid")
}

// extent is where and when a collection's features lie.
type extent struct {
	BBox       *orb.Bound // nil when the collection is empty
	Start, End string     // RFC 3339 date-times; "" is open or unknown
}

// collections is the registry, in the order /collections lists them.
func (h *handlers) collections() []collection {
	return []collection{
		h.incidentsCollection(),
		h.regionsCollection(),
	}
}

// collectionByID finds a registered collection.
func (h *handlers) collectionByID(id string) (*collection, bool) {
	for i := range h.colls {
		if h.colls[i].ID == id {
			return &h.colls[i], true
		}
	}
	return nil, false
}

// registerOGC declares the OGC API – Features routes (issue 4): landing page,
// conformance, OpenAPI document, and the collections of the registry.
func (h *handlers) registerOGC(app *fiber.App) {
	app.Get("/", h.landing)
	app.Get("/conformance", h.conformance)
	app.Get("/api", h.api)
	app.Get("/collections", h.collectionsList)
	app.Get("/collections/:collectionId", h.collectionHandler(func(c *fiber.Ctx, col *collection) error {
		return h.collectionDoc(c, col)
	}))
	app.Get("/collections/:collectionId/queryables", h.collectionHandler(h.queryables))
	app.Get(sortablesPath, h.sortablesDoc)
	app.Get(downloadPath, h.download)
	app.Get("/collections/:collectionId/items", h.collectionHandler(func(c *fiber.Ctx, col *collection) error {
		return col.Items(c)
	}))
	app.Get("/collections/:collectionId/items/:fid", h.collectionHandler(func(c *fiber.Ctx, col *collection) error {
		return col.Item(c)
	}))
}

// collectionHandler looks the collection up before calling fn. An id not in
// the registry passes to later routes (a collection served outside the
// registry still works) and ends as a 404 JSON error.
func (h *handlers) collectionHandler(fn func(*fiber.Ctx, *collection) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		col, ok := h.collectionByID(c.Params("collectionId"))
		if !ok {
			err := c.Next()
			var fe *fiber.Error
			if errors.As(err, &fe) && fe.Code == fiber.StatusNotFound {
				return notFound(fmt.Sprintf("no collection %q; see /collections", c.Params("collectionId")))
			}
			return err
		}
		return fn(c, col)
	}
}

// collectionJSON is a collection's description as /collections lists it.
type collectionJSON struct {
	ID          string      `json:"id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Links       []Link      `json:"links"`
	Extent      *extentJSON `json:"extent,omitempty"`
	ItemType    string      `json:"itemType"`
	CRS         []string    `json:"crs"`
	StorageCRS  string      `json:"storageCrs"`
}

type extentJSON struct {
	Spatial struct {
		BBox [][4]float64 `json:"bbox"`
		CRS  string       `json:"crs"`
	} `json:"spatial"`
	Temporal struct {
		Interval [][2]*string `json:"interval"`
		TRS      string       `json:"trs"`
	} `json:"temporal"`
}

// describe builds the JSON description of a collection.
func (h *handlers) describe(ctx context.Context, base string, col *collection) (collectionJSON, error) {
	crsList := col.CRS
	if crsList == nil {
		crsList = []string{CRS84}
	}
	self := base + "/collections/" + col.ID
	out := collectionJSON{
		ID: col.ID, Title: col.Title, Description: col.Description, ItemType: "feature",
		CRS: crsList, StorageCRS: CRS84,
		Links: []Link{
			{Href: self, Rel: "self", Type: MediaJSON, Title: "this collection"},
			{Href: self + "?f=html", Rel: "alternate", Type: MediaHTML, Title: "this collection as HTML"},
			{Href: self + "/items", Rel: "items", Type: MediaGeoJSON, Title: col.Title},
			{Href: self + "/items?f=html", Rel: "items", Type: MediaHTML, Title: col.Title + " as HTML"},
			{Href: self + "/queryables", Rel: "http://www.opengis.net/def/rel/ogc/1.0/queryables", Type: MediaSchemaJSON, Title: "properties filters may name"},
		},
	}
	if col.ID == writable {
		out.Links = append(out.Links, Link{Href: base + sortablesPath, Rel: "http://www.opengis.net/def/rel/ogc/1.0/sortables",
			Type: MediaSchemaJSON, Title: "properties sortby may name"})
		// The whole collection as one file in each download format.
		out.Links = append(out.Links, downloadLinks(base, nil)...)
	}
	if col.Extent == nil {
		return out, nil
	}
	ext, err := col.Extent(ctx)
	if err != nil {
		return out, fmt.Errorf("collection %s extent: %w", col.ID, err)
	}
	var e extentJSON
	e.Spatial.CRS = CRS84
	if b := ext.BBox; b != nil {
		e.Spatial.BBox = [][4]float64{{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}}
	} else {
		e.Spatial.BBox = [][4]float64{{-180, -90, 180, 90}}
	}
	e.Temporal.TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
	var iv [2]*string
	if ext.Start != "" {
		iv[0] = &ext.Start
	}
	if ext.End != "" {
		iv[1] = &ext.End
	}
	e.Temporal.Interval = [][2]*string{iv}
	out.Extent = &e
	return out, nil
}

// collectionsList serves /collections.
func (h *handlers) collectionsList(c *fiber.Ctx) error {
	f, err := negotiateDocument(c)
	if err != nil {
		return err
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	base := h.baseURL(c)
	doc := struct {
		Links       []Link           `json:"links"`
		Collections []collectionJSON `json:"collections"`
	}{Links: []Link{
		{Href: base + "/collections", Rel: "self", Type: MediaJSON, Title: "the collections"},
		{Href: base + "/collections?f=html", Rel: "alternate", Type: MediaHTML, Title: "the collections as HTML"},
	}, Collections: []collectionJSON{}}
	for i := range h.colls {
		cj, err := h.describe(ctx, base, &h.colls[i])
		if err != nil {
			return err
		}
		doc.Collections = append(doc.Collections, cj)
	}
	return h.render(c, f, resource{Media: MediaJSON, JSON: doc, Page: "collections", Title: "Collections", Links: doc.Links})
}

// collectionDoc serves /collections/{id}.
func (h *handlers) collectionDoc(c *fiber.Ctx, col *collection) error {
	f, err := negotiateDocument(c)
	if err != nil {
		return err
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	cj, err := h.describe(ctx, h.baseURL(c), col)
	if err != nil {
		return err
	}
	return h.render(c, f, resource{Media: MediaJSON, JSON: cj, Page: "collection", Title: col.Title, Links: cj.Links})
}
