package export

import (
	"bufio"
	"encoding/xml"
	"html"
	"strconv"

	"incidentmap/geo"
	"incidentmap/incident"
)

// kmlField is one attribute of a placemark, typed in the KML Schema so that
// GIS tools read numbers as numbers.
type kmlField struct {
	name, typ string
	value     func(*incident.Incident) string
}

var kmlFields = []kmlField{
	{"event_id", "string", func(i *incident.Incident) string { return i.EventID }},
	{"event_date", "string", func(i *incident.Incident) string { return i.EventDate }},
	{"time_precision", "int", func(i *incident.Incident) string { return strconv.Itoa(i.TimePrecision) }},
	{"event_type", "string", func(i *incident.Incident) string { return i.EventType }},
	{"sub_event_type", "string", func(i *incident.Incident) string { return i.SubEventType }},
	{"actor1", "string", func(i *incident.Incident) string { return i.Actor1 }},
	{"actor2", "string", func(i *incident.Incident) string { return i.Actor2 }},
	{"admin1", "string", func(i *incident.Incident) string { return i.Admin1 }},
	{"admin2", "string", func(i *incident.Incident) string { return i.Admin2 }},
	{"location", "string", func(i *incident.Incident) string { return i.Location }},
	{"region", "string", func(i *incident.Incident) string { return i.Region }},
	{"geo_precision", "int", func(i *incident.Incident) string { return strconv.Itoa(i.GeoPrecision) }},
	{"fatalities", "int", func(i *incident.Incident) string { return strconv.Itoa(i.Fatalities) }},
	{"source", "string", func(i *incident.Incident) string { return i.Source }},
	{"source_url", "string", func(i *incident.Incident) string { return i.SourceURL }},
	{"notes", "string", func(i *incident.Incident) string { return i.Notes }},
	{"tags", "string", func(i *incident.Incident) string { return i.Tags }},
	{"updated_at", "string", func(i *incident.Incident) string { return i.UpdatedAt }},
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
	for _, f := range kmlFields {
		w.WriteString(`<SimpleField name="` + f.name + `" type="` + f.typ + `"/>`)
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
		for _, f := range kmlFields {
			w.WriteString(`<SimpleData name="` + f.name + `">`)
			xmlText(w, f.value(inc))
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
