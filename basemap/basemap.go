// Package basemap holds the map page's offline base layers (land and the
// countries' borders, lakes, rivers, places with English and Arabic names)
// as small GeoJSON files embedded in the binary, so the map has names and
// water with no network. They are generated from Natural Earth (public
// domain) by `make basemap`; README.md names the sources.
package basemap

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
)

//go:embed *.geojson
var files embed.FS

// Layer is one base layer.
type Layer struct {
	ID    string // the file is ID + ".geojson"
	Title string
}

// Layers are the base layers in drawing order: land first, labels last.
var Layers = []Layer{
	{ID: "land", Title: "Land and countries"},
	{ID: "lakes", Title: "Lakes"},
	{ID: "rivers", Title: "Rivers"},
	{ID: "places", Title: "Cities and towns"},
}

// Attribution is what Natural Earth asks maps made with it to say.
const Attribution = "Made with Natural Earth"

// File is the GeoJSON of the layer named id and its strong ETag (the
// content's SHA-256), or an error wrapping fs.ErrNotExist.
func File(id string) (data []byte, etag string, err error) {
	for _, l := range Layers {
		if l.ID != id {
			continue
		}
		data, err := files.ReadFile(id + ".geojson")
		if err != nil {
			return nil, "", fmt.Errorf("basemap layer %s: %w", id, err)
		}
		sum := sha256.Sum256(data)
		return data, `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`, nil
	}
	return nil, "", fmt.Errorf("basemap layer %q: %w", id, fs.ErrNotExist)
}
