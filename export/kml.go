package export

import (
	"strconv"
	"unicode/utf8"

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

// The KML is written by hand into the row's buffer. Text goes through
// appendXML, which writes what encoding/xml's EscapeText writes, and
// appendHTMLXML, what html.EscapeString then xml.EscapeText write (see
// appendHTMLXML); a test compares them with the standard library's on
// hostile text. Both copy runs of plain bytes at once, found by a table.

// xmlPlain marks the bytes EscapeText copies as they are: ASCII but the
// control characters other than tab, LF and CR (which it escapes, or
// replaces when XML cannot hold them), and the five markup characters.
var xmlPlain = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\'' && b != '&' && b != '<' && b != '>'
	}
	return t
}()

// appendXML appends s escaped for XML character data and attributes,
// byte for byte as xml.EscapeText writes it.
func appendXML(dst []byte, s string) []byte {
	return appendEscaped(dst, s, false)
}

// appendHTMLXML appends s for text inside an element that KML viewers
// render as HTML: Google Earth shows a placemark's name and description in
// a balloon that is a small web page, so notes holding "<img src=x
// onerror=…>" or "<a href=javascript:…>" would be live markup there.
// Escaped once for HTML and once for XML, the viewer shows the characters
// as typed. (CDATA would not help: its content is HTML to the viewer all
// the same.) The exact values are in ExtendedData, as plain XML text, for
// GIS tools. The bytes are xml.EscapeText(html.EscapeString(s)).
func appendHTMLXML(dst []byte, s string) []byte {
	return appendEscaped(dst, s, true)
}

func appendEscaped(dst []byte, s string, html bool) []byte {
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && xmlPlain[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		b := s[i]
		var esc string
		width := 1
		switch b {
		case '"':
			esc = "&#34;"
			if html {
				esc = "&amp;#34;"
			}
		case '\'':
			esc = "&#39;"
			if html {
				esc = "&amp;#39;"
			}
		case '&':
			esc = "&amp;"
			if html {
				esc = "&amp;amp;"
			}
		case '<':
			esc = "&lt;"
			if html {
				esc = "&amp;lt;"
			}
		case '>':
			esc = "&gt;"
			if html {
				esc = "&amp;gt;"
			}
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if b < utf8.RuneSelf {
				esc = "\uFFFD" // a control character XML cannot hold
				break
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			width = size
			if r == utf8.RuneError && size == 1 || !xmlRuneOK(r) {
				esc = "\uFFFD"
				break
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		i += width
		start = i
	}
	return append(dst, s[start:]...)
}

// xmlRuneOK is encoding/xml's isInCharacterRange for runes of two bytes or
// more.
func xmlRuneOK(r rune) bool {
	return r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// kmlBalloon is the balloon every placemark uses: its name and description,
// both escaped by appendHTMLXML. Without it Google Earth may add a table of
// the ExtendedData values, which it renders as HTML too.
const kmlBalloon = `<Style id="incident"><BalloonStyle><text><![CDATA[<b>$[name]</b><br/>$[description]]]></text></BalloonStyle></Style>`

// kmlHead opens the document and declares the schema of ExtendedData.
var kmlHead = func() []byte {
	b := []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>incidents</name>` + "\n" +
		kmlBalloon + "\n" + `<Schema name="incidents" id="incidents">`)
	for i := range incident.Props {
		f := &incident.Props[i]
		b = append(b, `<SimpleField name="`+f.Name+`" type="`+kmlType(f)+`"/>`...)
	}
	return append(b, "</Schema>\n<Folder><name>incidents</name>\n"...)
}()

const kmlTail = "</Folder></Document></kml>\n"

// kmlData are the openings of each property's SimpleData, made once.
var kmlData = func() []string {
	out := make([]string, len(incident.Props))
	for i := range incident.Props {
		out[i] = `<SimpleData name="` + incident.Props[i].Name + `">`
	}
	return out
}()

// appendKMLRow appends one Placemark, named by its event type and place,
// with every attribute as typed SchemaData in ExtendedData and the date as
// a TimeStamp (Google Earth's time slider).
func appendKMLRow(dst []byte, inc *incident.Incident, _ int) []byte {
	dst = append(dst, `<Placemark id="incident-`...)
	dst = strconv.AppendInt(dst, inc.ID, 10)
	dst = append(dst, `"><name>`...)
	dst = appendHTMLXML(dst, inc.EventType)
	if inc.Location != "" {
		dst = appendHTMLXML(dst, " — ")
		dst = appendHTMLXML(dst, inc.Location)
	}
	dst = append(dst, "</name><description>"...)
	dst = appendHTMLXML(dst, inc.Notes)
	dst = append(dst, "</description><TimeStamp><when>"...)
	dst = appendXML(dst, inc.EventDate)
	dst = append(dst, `</when></TimeStamp><styleUrl>#incident</styleUrl><ExtendedData><SchemaData schemaUrl="#incidents">`...)
	for i := range incident.Props {
		f := &incident.Props[i]
		dst = append(dst, kmlData[i]...)
		if p := f.Int(inc); p != nil {
			dst = strconv.AppendInt(dst, int64(*p), 10)
		} else {
			dst = appendXML(dst, *f.Text(inc))
		}
		dst = append(dst, "</SimpleData>"...)
	}
	dst = append(dst, "</SchemaData></ExtendedData><Point><coordinates>"...)
	dst = geo.AppendCoord(dst, inc.Lon)
	dst = append(dst, ',')
	dst = geo.AppendCoord(dst, inc.Lat)
	return append(dst, "</coordinates></Point></Placemark>\n"...)
}
