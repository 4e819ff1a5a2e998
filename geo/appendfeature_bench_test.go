package geo_test

import (
	"testing"

	"incidentmap/geo"
	"incidentmap/incident"
)

// BenchmarkAppendFeature encodes one typical incident, the per-row cost of
// GeoJSON exports and pages (the encoder walks the field table).
func BenchmarkAppendFeature(b *testing.B) {
	inc := incident.Incident{ID: 123456, EventID: "IRQ123456", EventDate: "2021-05-01", TimePrecision: 1,
		EventType: "Explosions/Remote violence", SubEventType: "Air/drone strike", Actor1: "Military Forces of Turkey (2016-)",
		Actor2: "PKK: Kurdistan Workers Party", Admin1: "Erbil", Admin2: "Soran", Location: "Sidakan", Region: "Kurdistan Region",
		GeoPrecision: 2, Fatalities: 3, Source: "Rudaw", SourceURL: "https://example.org/a/123", Tags: "",
		Notes: "On 1 May 2021, Turkish drones struck a position of the PKK near Sidakan. 3 fatalities reported.",
		Lon:   44.671234, Lat: 36.797654, UpdatedAt: "2021-05-03T10:00:00Z"}
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = geo.AppendFeature(buf[:0], &inc)
	}
	b.SetBytes(int64(len(buf)))
}
