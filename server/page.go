package server

import (
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"incidentmap/export"
	"incidentmap/static"
)

// registerPage serves the map page at /map/ from the embedded static files.
func (h *handlers) registerPage(app *fiber.App) {
	app.Get("/map", func(c *fiber.Ctx) error {
		// Routing is not strict, so /map/ arrives here too. The page's relative
		// links (vendor/leaflet.js, ..) need the trailing slash.
		if !strings.HasSuffix(c.Path(), "/") {
			return c.Redirect(h.baseURL(c)+"/map/", http.StatusMovedPermanently)
		}
		return h.pageFile(c)
	})
	app.Get("/map/config.json", h.pageConfig)
	app.Get("/map/basemap/:name", h.basemapFile)
	app.Get("/map/*", h.pageFile)
}

// PageTileModeAbove is the number of matching incidents above which the map
// page draws the server's vector tiles instead of fetching the features.
const PageTileModeAbove = 5000

// pageFormat is one download format as the page offers it.
type pageFormat struct {
	F         string `json:"f"`
	Label     string `json:"label"`
	MediaType string `json:"mediaType"`
	Ext       string `json:"ext"`
	// Href is the download of every incident in this format; the page adds
	// its filters to the query (the items parameters).
	Href string `json:"href"`
}

// formatLabels are the names people know the export formats by.
var formatLabels = map[export.Format]string{
	export.GeoJSON: "GeoJSON", export.GeoJSONSeq: "GeoJSON Text Sequences", export.CSV: "CSV",
	export.KML: "KML", export.GPKG: "GeoPackage",
}

// pageConfigJSON is /map/config.json: what the page cannot know by itself,
// so that it never has to dig it out of the OpenAPI document.
type pageConfigJSON struct {
	Tiles       string       `json:"tiles"`       // URL template of the online tile layer; "" when off
	Attribution string       `json:"attribution"` // what that tile provider requires
	TilesHelp   string       `json:"tilesHelp"`   // how an operator turns the online layer on
	Formats     []pageFormat `json:"formats"`
	Limits      struct {
		MaxItems      int `json:"maxItems"`      // the largest items page
		DefaultItems  int `json:"defaultItems"`  // the items page without a limit
		TileModeAbove int `json:"tileModeAbove"` // draw vector tiles above this many matches
		MaxGroups     int `json:"maxGroups"`     // the largest aggregation limit
	} `json:"limits"`
	Basemap   basemapConfig `json:"basemap"`
	Languages []string      `json:"languages"`
	Aggregate string        `json:"aggregate"` // the aggregation endpoint
}

// pageConfig tells the page the settings it cannot know by itself.
func (h *handlers) pageConfig(c *fiber.Ctx) error {
	if _, err := queryValues(c, nil); err != nil {
		return err
	}
	cfg := pageConfigJSON{Tiles: h.cfg.Tiles, Attribution: h.cfg.TilesAttribution,
		TilesHelp: "An online tile layer is off. To offer one, start the server with " +
			"--tiles 'https://tiles.example.org/{z}/{x}/{y}.png' --tiles-attribution '© the provider' " +
			"(or INCIDENTMAP_TILES and INCIDENTMAP_TILES_ATTRIBUTION).",
		Basemap: basemapLayers(), Languages: []string{"en", "ar"}, Aggregate: aggregatePath}
	for _, f := range export.Formats {
		cfg.Formats = append(cfg.Formats, pageFormat{F: string(f), Label: formatLabels[f], MediaType: f.MediaType(), Ext: f.Ext(),
			Href: downloadHref(h.baseURL(c), nil, f)})
	}
	cfg.Limits.MaxItems, cfg.Limits.DefaultItems = h.cfg.MaxLimit, h.cfg.DefaultLimit
	cfg.Limits.TileModeAbove, cfg.Limits.MaxGroups = PageTileModeAbove, aggregateMaxLimit
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, MediaJSON, cfg)
}

// pageFile serves one file of the page; the folder itself is index.html.
// Query parameters are ignored: links to the page carry tracking or
// campaign parameters (utm_source=…) that must not stop it from opening,
// and the page keeps its own state in the URL's hash.
func (h *handlers) pageFile(c *fiber.Ctx) error {
	name := path.Clean("/" + c.Params("*"))[1:]
	if name == "" {
		name = "index.html"
	}
	if name == "index.html" && !static.HasVendor() {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeNotReady,
			Description: "this binary was built without the map's Leaflet files; build it with `make build` (it runs `make assets`)"}
	}
	if strings.HasSuffix(name, ".md") || name == "static.go" {
		return notFound("no file " + name + " on the map page")
	}
	data, err := fs.ReadFile(static.FS, name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
		return notFound("no file " + name + " on the map page")
	}
	if err != nil {
		return err
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, ctype)
	if strings.HasPrefix(name, "vendor/") {
		c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	return c.Send(data)
}
