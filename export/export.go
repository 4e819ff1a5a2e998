// Package export writes incidents in the formats GIS tools and spreadsheets
// read — GeoJSON, GeoJSON text sequences, ACLED-column CSV and KML — row by
// row to a writer, so an export of millions of rows needs no more memory than
// one row; GeoPackage (a SQLite file) from a cursor into a file.
package export

import (
	"fmt"
	"io"

	"incidentmap/geo"

	"incidentmap/incident"
)

// Format is an export format.
type Format string

// The export formats.
const (
	GeoJSON    Format = "geojson"
	GeoJSONSeq Format = "geojsonseq"
	CSV        Format = "csv"
	KML        Format = "kml"
	GPKG       Format = "gpkg"
)

// Formats lists every export format.
var Formats = []Format{GeoJSON, GeoJSONSeq, CSV, KML, GPKG}

// Parse checks a format name.
func Parse(s string) (Format, bool) {
	for _, f := range Formats {
		if string(f) == s {
			return f, true
		}
	}
	return "", false
}

// MediaType is the Content-Type of a format.
func (f Format) MediaType() string {
	switch f {
	case GeoJSON:
		return "application/geo+json"
	case GeoJSONSeq:
		return "application/geo+json-seq"
	case CSV:
		return "text/csv; charset=utf-8"
	case KML:
		return "application/vnd.google-earth.kml+xml"
	case GPKG:
		return "application/geopackage+sqlite3"
	}
	return "application/octet-stream"
}

// Ext is the file name extension of a format.
func (f Format) Ext() string {
	switch f {
	case GeoJSONSeq:
		return ".geojsons"
	}
	return "." + string(f)
}

// Rows is a stream of incidents, such as a incident.Cursor.
type Rows interface {
	Next() bool
	Incident() *incident.Incident
	Err() error
}

// Write writes rows to w in f (any format but GPKG) and returns how many it
// wrote. It writes in large pieces (see writeRows), so w needs no buffer.
//
// The CSV holds importer.ACLEDColumns. Text that a spreadsheet would take
// for a formula (=HYPERLINK(…), +cmd|…, @SUM…, -2+3…) gets a leading
// apostrophe (importer.EscapeCSVText), which import removes again. Columns
// incidentmap does not keep stay empty; year comes from the date; timestamp
// stays empty so that re-importing an export never counts as a newer source
// version; "region" is ACLED's world region, not incidentmap's grouping
// (which import derives from admin1 again).
func Write(w io.Writer, f Format, rows Rows) (int, error) {
	rf, ok := rowFormats[f]
	if !ok {
		return 0, fmt.Errorf("export: %q is not a streamed format", f)
	}
	n, err := writeRows(w, rf, rows)
	if err == nil {
		err = rows.Err()
	}
	return n, err
}

// rowFormats are the streamed formats.
var rowFormats = map[Format]*rowFormat{
	GeoJSON: {
		head: []byte(`{"type":"FeatureCollection","name":"incidents","features":[` + "\n"),
		row: func(dst []byte, inc *incident.Incident, i int) []byte {
			if i > 0 {
				dst = append(dst, ",\n"...)
			}
			return geo.AppendFeature(dst, inc)
		},
		tail: []byte("\n]}\n"),
	},
	// RFC 8142: each feature after RS and before LF.
	GeoJSONSeq: {
		row: func(dst []byte, inc *incident.Incident, _ int) []byte {
			dst = append(dst, 0x1E)
			dst = geo.AppendFeature(dst, inc)
			return append(dst, '\n')
		},
	},
	CSV: {head: csvHead, row: appendCSVRow},
	KML: {head: kmlHead, row: appendKMLRow, tail: []byte(kmlTail)},
}
