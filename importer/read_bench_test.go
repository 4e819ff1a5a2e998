package importer_test

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"testing"

	"incidentmap/importer"
	"incidentmap/synth"
)

// benchFiles holds the same 20,000 synthetic incidents as a text sequence, a
// FeatureCollection and an ACLED CSV, built once.
var benchFiles = func() map[importer.Format][]byte {
	var seq bytes.Buffer
	if err := synth.WriteSeq(&seq, 1, 20000); err != nil {
		panic(err)
	}
	fc := []byte(`{"type":"FeatureCollection","features":[`)
	for i, rec := range bytes.Split(bytes.TrimSpace(seq.Bytes()), []byte{0x1E}) {
		if len(rec) == 0 {
			continue
		}
		if i > 1 {
			fc = append(fc, ',')
		}
		fc = append(fc, bytes.TrimSpace(rec)...)
	}
	fc = append(fc, "]}\n"...)
	var c bytes.Buffer
	w := csv.NewWriter(&c)
	w.Write([]string{"event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1", "actor2", "admin1",
		"location", "latitude", "longitude", "fatalities", "source", "notes"})
	for n := 1; n <= 20000; n++ {
		inc := synth.Incident(1, n)
		w.Write([]string{inc.EventID, inc.EventDate, inc.EventType, inc.SubEventType, inc.Actor1, inc.Actor2, inc.Admin1,
			inc.Location, strconv.FormatFloat(inc.Lat, 'f', -1, 64), strconv.FormatFloat(inc.Lon, 'f', -1, 64),
			strconv.Itoa(inc.Fatalities), inc.Source, inc.Notes})
	}
	w.Flush()
	return map[importer.Format][]byte{importer.FormatGeoJSONSeq: seq.Bytes(), importer.FormatGeoJSON: fc, importer.FormatACLED: c.Bytes()}
}()

// BenchmarkRead reads and checks every row of each format, as an import's
// reader goroutine does (no database): the record guards must not cost
// the import its speed.
func BenchmarkRead(b *testing.B) {
	for _, f := range []importer.Format{importer.FormatACLED, importer.FormatGeoJSON, importer.FormatGeoJSONSeq} {
		data := benchFiles[f]
		b.Run(string(f), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				rows := 0
				err := importer.Read(bytes.NewReader(data), f, func(r importer.Row, p *importer.Problem) error {
					if p != nil {
						b.Fatalf("row %d: %v", p.Row, p)
					}
					rows++
					return nil
				})
				if err != nil || rows != 20000 {
					b.Fatalf("%d rows, %v", rows, err)
				}
			}
		})
	}
}
