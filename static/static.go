// Package static holds the map page (HTML, CSS, JavaScript) and, under vendor/,
// the Leaflet files that `make assets` copies from npm; all embedded in the
// binary so that the page needs no network.
package static

import (
	"embed"
	"io/fs"
)

//go:embed index.html app.css mvt.js incident-tiles.js js vendor
var files embed.FS

// FS is the page's file tree: index.html, app.css, js/ (the page's ES modules), mvt.js,
// incident-tiles.js and vendor/.
var FS fs.FS = files

// HasVendor reports whether the Leaflet files were built in; without them the
// page cannot draw a map, and the server says how to fix that.
func HasVendor() bool {
	_, err := fs.Stat(files, "vendor/leaflet.js")
	return err == nil
}
