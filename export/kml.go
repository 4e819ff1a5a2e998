package export

import (
	"bufio"
	"encoding/xml"
	"html"
	"strconv"

	"incidentmap/geo"
	"incidentmap/incident"
)

// kmlType is the KML Schema type of a property, so that GIS tools read
// numbers as numbers.
func kmlType(f *incident.Field) string {
	if f.Kind == incident.Integer {
		return "int"
	}
	return "string"
}

// kmlValue is the text of the property f of inc.
func kmlValue(f *incident.Field, inc *incident.Incident) string {
	if n := f.Int(inc); n != nil {
		return strconv.Itoa(*n)
	}
	return *f.Text(inc)
}

// xmlText appends s escaped for XML character data and attributes.
func xmlText(w *bufio.Writer, s string) {
	xml.EscapeText(w, []byte(s))
}

// htmlText appends s as text inside an element that KML viewers render as
// HTML: Google Earth shows a placemark's name and description in a balloon
// that is a small web page, so notes holding "<img src=x onerror=…>" or
// "<a href=javascript:…>" would be live markup there. Escaped once for HTML
// and once for XML, the viewer shows the characters as typed. (CDATA would not
// help: its content is HTML to the viewer all the same.) The exact values are
// in ExtendedData, as plain XML text, for GIS tools.
func htmlText(w *bufio.Writer, s string) {
	xmlText(w, html.EscapeString(s))
}

// kmlBalloon is the balloon every placemark uses: its name and description,
// both escaped by htmlText. Without it Google Earth may add a table of the
// ExtendedData values, which it renders as HTML too.
const kmlBalloon = `<Style id="incident"><BalloonStyle><text><![CDATA[<b>$[name]</b><br/>$[description]]]></text></BalloonStyle></Style>`

// writeKML writes a KML document: one Placemark per incident, named by its
// event type and place, with every attribute as typed SchemaData in
// ExtendedData and the date as a TimeStamp (Google Earth's time slider).
func writeKML(w *bufio.Writer, rows Rows) (int, error) {
	w.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>incidents</name>` + "\n" +
		kmlBalloon + "\n" + `<Schema name="incidents" id="incidents">`)
	for i := range incident.Props {
		f := &incident.Props[i]
		w.WriteString(`<SimpleField name="` + f.Name + `" type="` + kmlType(f) + `"/>`)
	}
	w.WriteString("</Schema>\n<Folder><name>incidents</name>\n")
	n := 0
	coord := make([]byte, 0, 64)
	for rows.Next() {
		inc := rows.Incident()
		w.WriteString(`<Placemark id="incident-` + strconv.FormatInt(inc.ID, 10) + `"><name>`)
		name := inc.EventType
		if inc.Location != "" {
			name += " — " + inc.Location
		}
		htmlText(w, name)
		w.WriteString("</name><description>")
		htmlText(w, inc.Notes)
		w.WriteString("</description><TimeStamp><when>")
		xmlText(w, inc.EventDate)
		w.WriteString(`</when></TimeStamp><styleUrl>#incident</styleUrl><ExtendedData><SchemaData schemaUrl="#incidents">`)
		for i := range incident.Props {
			f := &incident.Props[i]
			w.WriteString(`<SimpleData name="` + f.Name + `">`)
			xmlText(w, kmlValue(f, inc))
			w.WriteString("</SimpleData>")
		}
		coord = geo.AppendCoord(coord[:0], inc.Lon)
		coord = append(coord, ',')
		coord = geo.AppendCoord(coord, inc.Lat)
		w.WriteString("</SchemaData></ExtendedData><Point><coordinates>")
		w.Write(coord)
		if _, err := w.WriteString("</coordinates></Point></Placemark>\n"); err != nil {
			return n, err
		}
		n++
	}
	_, err := w.WriteString("</Folder></Document></kml>\n")
	return n, err
}
