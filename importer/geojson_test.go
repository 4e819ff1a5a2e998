package importer_test

import (
	"bytes"
	"strings"
	"testing"

	"incidentmap/importer"
	"incidentmap/seed"
)

func rows(t *testing.T, data string, f importer.Format) ([]importer.Row, []importer.Problem) {
	t.Helper()
	var out []importer.Row
	var probs []importer.Problem
	err := importer.Read(bytes.NewReader([]byte(data)), f, func(r importer.Row, p *importer.Problem) error {
		if p != nil {
			probs = append(probs, *p)
		} else {
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return out, probs
}

const feat1 = `{"type":"Feature","geometry":{"type":"Point","coordinates":[44.4,33.3]},"properties":{"event_id":"G1","event_date":"2021-05-01","event_type":"Riots","fatalities":2,"timestamp":1700000000}}`
const feat2 = `{"type":"Feature","geometry":{"type":"Point","coordinates":[43.3,33.4]},"properties":{"event_id":"G2","event_date":"2021-05-02","event_type":"Protests"}}`
const featBad = `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[43.3,33.4],[1,2]]},"properties":{"event_id":"G3"}}`

func TestReadFormats(t *testing.T) {
	for _, c := range []struct {
		name string
		data string
		f    importer.Format
	}{
		{"collection", `{"name":"x","features":[` + feat1 + "," + featBad + "," + feat2 + `],"type":"FeatureCollection"}`, importer.FormatGeoJSON},
		{"collection, white space after", `{"type":"FeatureCollection","features":[` + feat1 + "," + featBad + "," + feat2 + "]}\r\n \n\t", importer.FormatGeoJSON},
		{"collection sniffed", ` {"type":"FeatureCollection","features":[` + feat1 + "," + featBad + "," + feat2 + `]}`, importer.FormatAuto},
		{"rfc 8142", "\x1e" + feat1 + "\n\x1e" + featBad + "\n\x1e" + feat2 + "\n", importer.FormatGeoJSONSeq},
		{"rfc 8142 sniffed", "\x1e" + feat1 + "\n\x1e" + featBad + "\n\x1e" + feat2 + "\n", importer.FormatAuto},
		{"newline-delimited", feat1 + "\n" + featBad + "\n\n" + feat2, importer.FormatGeoJSONSeq},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, probs := rows(t, c.data, c.f)
			if len(got) != 2 || got[0].Incident.EventID != "G1" || got[0].Row != 1 || got[0].Timestamp != 1700000000 ||
				got[0].Incident.Fatalities != 2 || got[1].Incident.EventID != "G2" || got[1].Row != 3 || got[1].Incident.Lon != 43.3 {
				t.Fatalf("rows %+v", got)
			}
			if len(probs) != 1 || probs[0].Row != 2 || probs[0].Field != "geometry" {
				t.Fatalf("problems %+v", probs)
			}
		})
	}
}

func TestACLEDColumnsAnyOrderBothDates(t *testing.T) {
	data := "notes,longitude,EXTRA,event_date,latitude,event_type,event_id_cnty,timestamp\n" +
		"\"a, b\",44.1,x,02 January 2021,33.1,Riots,E1,5\n" +
		"c,44.2,y,2021-01-03,33.2,Protests,E2,\n" +
		"d,44.2,y,2021-02-30,33.2,Protests,E3,\n"
	got, probs := rows(t, data, importer.FormatAuto)
	if len(got) != 2 || got[0].Incident.EventDate != "2021-01-02" || got[0].Incident.Notes != "a, b" ||
		got[0].Timestamp != 5 || got[1].Incident.EventDate != "2021-01-03" || got[1].Incident.Lat != 33.2 {
		t.Fatalf("rows %+v", got)
	}
	if len(probs) != 1 || probs[0].Row != 3 || probs[0].Field != "event_date" || !strings.Contains(probs[0].String(), "row 3") {
		t.Fatalf("problems %+v", probs)
	}
}

func TestSeedParses(t *testing.T) {
	incs, err := importer.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 13 {
		t.Fatalf("seed has %d incidents, want 13", len(incs))
	}
	byRegion := map[string]int{}
	for _, inc := range incs {
		byRegion[inc.Region]++
	}
	want := map[string]int{"Anbar": 5, "Baghdad": 5, "Kurdistan Region": 3}
	for r, n := range want {
		if byRegion[r] != n {
			t.Errorf("region %s: %d incidents, want %d (all: %v)", r, byRegion[r], n, byRegion)
		}
	}
	// Event 2 (the Soleimani strike) keeps its facts.
	if inc := incs[1]; inc.EventDate != "2020-01-03" || inc.Fatalities != 10 || inc.Lon != 44.2346 || inc.Lat != 33.2625 || inc.GeoPrecision != 2 {
		t.Fatalf("seed event 2 = %+v", inc)
	}
}
