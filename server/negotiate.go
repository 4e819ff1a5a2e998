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
		case "json", "geojson":
			return formatJSON, nil
		case "html":
			return formatHTML, nil
		}
		return formatJSON, &Error{Status: http.StatusNotAcceptable, Code: CodeNotAcceptable,
			Description: fmt.Sprintf("format f=%q is not offered; use f=json or f=html, or download with f=geojson, geojsonseq, csv, kml or gpkg", f)}
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
