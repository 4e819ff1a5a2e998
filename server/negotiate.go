package server

import (
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// format is the representation a response is written in.
type format int

const (
	formatJSON format = iota // JSON (GeoJSON for features)
	formatHTML               // a page for people
)

// negotiate is the one place that decides between HTML and JSON: the f
// parameter when given (json, geojson or html; anything else is 406), else the
// Accept header, where text/html must be preferred over every JSON type for a
// page to be sent. Clients that send no Accept, or only types we lack, get JSON.
func negotiate(c *fiber.Ctx) (format, error) {
	if f := c.Query("f"); f != "" {
		switch f {
		case "json", "geojson": // the paged GeoJSON; downloads have their own path
			return formatJSON, nil
		case "html":
			return formatHTML, nil
		}
		return formatJSON, &Error{Status: http.StatusNotAcceptable, Code: CodeNotAcceptable,
			Description: fmt.Sprintf("format f=%q is not offered; use f=json or f=html, or download from /collections/incidents/download with f=geojson, geojsonseq, csv, kml or gpkg", f)}
	}
	if c.Get(fiber.HeaderAccept) == "" {
		return formatJSON, nil
	}
	if c.Accepts(MediaJSON, MediaGeoJSON, MediaSchemaJSON, "application/vnd.oai.openapi+json", MediaHTML) == MediaHTML {
		return formatHTML, nil
	}
	return formatJSON, nil
}

// negotiateDocument is negotiate for resources whose only parameter is f:
// any other query parameter is refused.
func negotiateDocument(c *fiber.Ctx) (format, error) {
	if _, err := queryValues(c, []string{"f"}); err != nil {
		return formatJSON, err
	}
	return negotiate(c)
}

// resource is one answer of a handler, built once whatever the format: the
// JSON document and how a page shows it. render writes it in the negotiated
// format, so no handler branches on HTML or JSON itself — but the items
// pages, whose HTML and JSON are streamed row by row, and one feature's
// GeoJSON, which carries its own ETag for writes.
type resource struct {
	Media string // media type of the JSON
	JSON  any    // the document; a []byte is sent as it is (already encoded)
	Page  string // the HTML template
	Title string // the page's title
	Links []Link // the page's links
	View  any    // the template's data; JSON when nil
}

// render writes r as f: the page, or the JSON document.
func (h *handlers) render(c *fiber.Ctx, f format, r resource) error {
	if f == formatHTML {
		view := r.View
		if view == nil {
			view = r.JSON
		}
		return h.renderHTML(c, r.Page, r.Title, r.Links, view)
	}
	if b, ok := r.JSON.([]byte); ok {
		c.Set(fiber.HeaderContentType, r.Media)
		return c.Send(b)
	}
	return sendJSON(c, r.Media, r.JSON)
}
