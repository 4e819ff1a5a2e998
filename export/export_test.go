package export

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"html"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"incidentmap/geo"
	"incidentmap/importer"
	"incidentmap/incident"
)

// sliceRows is Rows over a slice; next counts the rows read.
type sliceRows struct {
	incs []incident.Incident
	next int
	cur  incident.Incident
}

func (r *sliceRows) Next() bool {
	if r.next >= len(r.incs) {
		return false
	}
	// A copy per row, as a cursor overwrites its current row.
	r.cur = r.incs[r.next]
	r.next++
	return true
}
func (r *sliceRows) Incident() *incident.Incident { return &r.cur }
func (r *sliceRows) Err() error                   { return nil }

// hostile are texts that every escaper must treat exactly as the standard
// library does.
var hostile = []string{"", " ", " lead", "\tlead", "\u00a0nbsp lead", "\u2003em space", "\\.", `\.x`,
	"a,b", `say "hi"`, "line\nbreak", "cr\rlf\r\n", "<img src=x onerror=alert(1)>", "Tom & Jerry's",
	"=HYPERLINK(\"x\")", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "'=1", "ctl\x00\x01\x1f\x7f",
	"bad\xffutf8\xc3", "\xe2\x80", "ok \u2028 \u2029 sep", "\ufffe\uffff nonchars", "\ufffd real",
	"العراق — بغداد", "emoji 🚀 astral", "</script><!--", "tab\there", strings.Repeat("long notes ", 300)}

// randomIncidents makes n incidents whose texts mix hostile pieces and
// random bytes.
func randomIncidents(n int, seed uint64) []incident.Incident {
	rng := rand.New(rand.NewPCG(seed, 1))
	text := func() string {
		switch rng.IntN(4) {
		case 0:
			return hostile[rng.IntN(len(hostile))]
		case 1:
			b := make([]byte, rng.IntN(40))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			return string(b)
		default:
			return hostile[rng.IntN(len(hostile))] + "x" + hostile[rng.IntN(len(hostile))]
		}
	}
	out := make([]incident.Incident, n)
	for i := range out {
		inc := &out[i]
		inc.ID = int64(i*7 + 1)
		for p := range incident.Props {
			f := &incident.Props[p]
			if ip := f.Int(inc); ip != nil {
				*ip = rng.IntN(2000) - 5
			} else {
				*f.Text(inc) = text()
			}
		}
		if i%3 == 0 {
			inc.EventDate = "2021-03-04"
		}
		if i%5 == 0 {
			inc.Location = ""
		}
		inc.Lon = rng.Float64()*360 - 180
		inc.Lat = rng.Float64()*180 - 90
	}
	return out
}

// The reference writers are the encoders as they were before they were
// written by hand: encoding/csv, xml.EscapeText, html.EscapeString.

func refCSV(incs []incident.Incident) []byte {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(importer.ACLEDColumns)
	for i := range incs {
		inc := &incs[i]
		rec := make([]string, len(importer.ACLEDColumns))
		for c, col := range importer.ACLEDColumns {
			for p := range incident.Props {
				if f := &incident.Props[p]; f.CSV == col {
					if n := f.Int(inc); n != nil {
						rec[c] = strconv.Itoa(*n)
					} else {
						rec[c] = *f.Text(inc)
					}
				}
			}
			switch col {
			case "year":
				if len(inc.EventDate) >= 4 {
					rec[c] = inc.EventDate[:4]
				}
			case "latitude":
				rec[c] = string(geo.AppendCoord(nil, inc.Lat))
			case "longitude":
				rec[c] = string(geo.AppendCoord(nil, inc.Lon))
			}
			if importer.IsCSVTextColumn(col) {
				rec[c] = importer.EscapeCSVText(rec[c])
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	return b.Bytes()
}

func refKML(incs []incident.Incident) []byte {
	var b bytes.Buffer
	xmlText := func(s string) { xml.EscapeText(&b, []byte(s)) }
	b.Write(kmlHead)
	for i := range incs {
		inc := &incs[i]
		b.WriteString(`<Placemark id="incident-` + strconv.FormatInt(inc.ID, 10) + `"><name>`)
		name := inc.EventType
		if inc.Location != "" {
			name += " — " + inc.Location
		}
		xmlText(html.EscapeString(name))
		b.WriteString("</name><description>")
		xmlText(html.EscapeString(inc.Notes))
		b.WriteString("</description><TimeStamp><when>")
		xmlText(inc.EventDate)
		b.WriteString(`</when></TimeStamp><styleUrl>#incident</styleUrl><ExtendedData><SchemaData schemaUrl="#incidents">`)
		for p := range incident.Props {
			f := &incident.Props[p]
			b.WriteString(`<SimpleData name="` + f.Name + `">`)
			if n := f.Int(inc); n != nil {
				xmlText(strconv.Itoa(*n))
			} else {
				xmlText(*f.Text(inc))
			}
			b.WriteString("</SimpleData>")
		}
		b.WriteString("</SchemaData></ExtendedData><Point><coordinates>")
		b.Write(geo.AppendCoord(nil, inc.Lon))
		b.WriteByte(',')
		b.Write(geo.AppendCoord(nil, inc.Lat))
		b.WriteString("</coordinates></Point></Placemark>\n")
	}
	b.WriteString(kmlTail)
	return b.Bytes()
}

func refGeoJSON(incs []incident.Incident, seq bool) []byte {
	var b []byte
	if !seq {
		b = append(b, `{"type":"FeatureCollection","name":"incidents","features":[`+"\n"...)
	}
	for i := range incs {
		switch {
		case seq:
			b = append(b, 0x1E)
		case i > 0:
			b = append(b, ",\n"...)
		}
		b = geo.AppendFeature(b, &incs[i])
		if seq {
			b = append(b, '\n')
		}
	}
	if !seq {
		b = append(b, "\n]}\n"...)
	}
	return b
}

// TestHandWrittenEncodersMatchTheStandardLibrary checks that the CSV and
// KML bytes are those of encoding/csv and encoding/xml + html, on hostile
// and random text, with one encoder and with the pipeline of several.
func TestHandWrittenEncodersMatchTheStandardLibrary(t *testing.T) {
	incs := randomIncidents(3000, 16)
	want := map[Format][]byte{CSV: refCSV(incs), KML: refKML(incs),
		GeoJSON: refGeoJSON(incs, false), GeoJSONSeq: refGeoJSON(incs, true)}
	for _, workers := range []int{1, 2, 5} {
		for f, w := range want {
			for _, n := range []int{0, 1, jobRows - 1, jobRows, jobRows + 1, len(incs)} {
				got := writeWith(t, f, incs[:n], workers)
				ref := w
				if n < len(incs) {
					switch f {
					case CSV:
						ref = refCSV(incs[:n])
					case KML:
						ref = refKML(incs[:n])
					default:
						ref = refGeoJSON(incs[:n], f == GeoJSONSeq)
					}
				}
				if !bytes.Equal(got, ref) {
					i := 0
					for i < len(got) && i < len(ref) && got[i] == ref[i] {
						i++
					}
					t.Fatalf("%s, %d rows, %d encoders: differs at byte %d: got %q, want %q", f, n, workers, i,
						got[max(0, i-40):min(len(got), i+40)], ref[max(0, i-40):min(len(ref), i+40)])
				}
			}
		}
	}
}

func writeWith(t *testing.T, f Format, incs []incident.Incident, workers int) []byte {
	t.Helper()
	defer func(old func() int) { encodeWorkers = old }(encodeWorkers)
	encodeWorkers = func() int { return workers }
	var b bytes.Buffer
	n, err := Write(&b, f, &sliceRows{incs: incs})
	if err != nil || n != len(incs) {
		t.Fatalf("%s: wrote %d of %d rows: %v", f, n, len(incs), err)
	}
	return b.Bytes()
}

// failAfter fails every write after the first n bytes.
type failAfter struct{ n int }

var errWrite = errors.New("disk full")

func (w *failAfter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		return 0, errWrite
	}
	w.n -= len(p)
	return len(p), nil
}

// TestWriteErrorStopsTheRead: a failed write ends the export with its
// error, and the pipeline stops reading rows soon after (a client that
// went away must not keep a million-row read going).
func TestWriteErrorStopsTheRead(t *testing.T) {
	incs := randomIncidents(200*jobRows, 3)
	for _, workers := range []int{1, 2, 4} {
		defer func(old func() int) { encodeWorkers = old }(encodeWorkers)
		encodeWorkers = func() int { return workers }
		rows := &sliceRows{incs: incs}
		n, err := Write(&failAfter{n: 1 << 20}, GeoJSON, rows)
		if !errors.Is(err, errWrite) {
			t.Fatalf("%d encoders: err %v, want the write's", workers, err)
		}
		if n >= len(incs) || rows.next > 40*jobRows {
			t.Fatalf("%d encoders: %d rows written, %d read of %d after the write failed", workers, n, rows.next, len(incs))
		}
	}
}
