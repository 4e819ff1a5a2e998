// Package export writes incidents in the formats GIS tools and spreadsheets
// read — GeoJSON, GeoJSON text sequences, ACLED-column CSV and KML — row by
// row to a writer, so an export of millions of rows needs no more memory than
// one row; GeoPackage (a SQLite file) from a cursor into a file.
package export

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"incidentmap/geo"

	"incidentmap/importer"
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
// wrote. The output is buffered; Write flushes it before returning.
func Write(w io.Writer, f Format, rows Rows) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	var n int
	var err error
	switch f {
	case GeoJSON:
		n, err = writeGeoJSON(bw, rows)
	case GeoJSONSeq:
		n, err = writeGeoJSONSeq(bw, rows)
	case CSV:
		n, err = writeCSV(bw, rows)
	case KML:
		n, err = writeKML(bw, rows)
	default:
		return 0, fmt.Errorf("export: %q is not a streamed format", f)
	}
	if err == nil {
		err = rows.Err()
	}
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	return n, err
}

func writeGeoJSON(w *bufio.Writer, rows Rows) (int, error) {
	buf := []byte(`{"type":"FeatureCollection","name":"incidents","features":[` + "\n")
	n := 0
	for rows.Next() {
		if n > 0 {
			buf = append(buf, ",\n"...)
		}
		buf = geo.AppendFeature(buf, rows.Incident())
		if _, err := w.Write(buf); err != nil {
			return n, err
		}
		buf = buf[:0]
		n++
	}
	buf = append(buf, "\n]}\n"...)
	_, err := w.Write(buf)
	return n, err
}

// writeGeoJSONSeq writes RFC 8142: each feature after RS and before LF.
func writeGeoJSONSeq(w *bufio.Writer, rows Rows) (int, error) {
	buf := make([]byte, 0, 1024)
	n := 0
	for rows.Next() {
		buf = append(buf[:0], 0x1E)
		buf = geo.AppendFeature(buf, rows.Incident())
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// writeCSV writes importer.ACLEDColumns. Text that a spreadsheet would take
// for a formula (=HYPERLINK(…), +cmd|…, @SUM…, -2+3…) gets a leading
// apostrophe (importer.EscapeCSVText), which import removes again. Columns incidentmap does not keep
// stay empty; year comes from the date; timestamp stays empty so that
// re-importing an export never counts as a newer source version; "region" is ACLED's world region,
// not incidentmap's grouping (which import derives from admin1 again).
func writeCSV(w *bufio.Writer, rows Rows) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(importer.ACLEDColumns); err != nil {
		return 0, err
	}
	rec := make([]string, len(importer.ACLEDColumns))
	n := 0
	for rows.Next() {
		inc := rows.Incident()
		for i, col := range importer.ACLEDColumns {
			rec[i] = csvField(inc, i, col)
			if importer.IsCSVTextColumn(col) {
				rec[i] = importer.EscapeCSVText(rec[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
	}
	cw.Flush()
	return n, cw.Error()
}

// csvFieldOf maps each ACLED column to the field the table keeps in it
// (-1: none), made once from incident.Props.
var csvFieldOf = func() []int {
	out := make([]int, len(importer.ACLEDColumns))
	for i, col := range importer.ACLEDColumns {
		out[i] = -1
		for p, f := range incident.Props {
			if f.CSV == col {
				out[i] = p
			}
		}
	}
	return out
}()

// csvField is the text of ACLED column i (named col) for inc.
func csvField(inc *incident.Incident, i int, col string) string {
	if p := csvFieldOf[i]; p >= 0 {
		f := &incident.Props[p]
		if n := f.Int(inc); n != nil {
			return strconv.Itoa(*n)
		}
		return *f.Text(inc)
	}
	switch col {
	case "year":
		if len(inc.EventDate) >= 4 {
			return inc.EventDate[:4]
		}
	case "latitude":
		return string(geo.AppendCoord(nil, inc.Lat))
	case "longitude":
		return string(geo.AppendCoord(nil, inc.Lon))
	}
	return ""
}
