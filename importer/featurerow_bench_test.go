package importer_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"testing"

	"incidentmap/importer"
	"incidentmap/incident"
	"incidentmap/synth"
)

// synthFeatures returns n features of the synthetic set (seed 1), one raw
// GeoJSON Feature each, as `incidentmap gen` writes them.
func synthFeatures(tb testing.TB, n int) [][]byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := synth.WriteSeq(&buf, 1, n); err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, rec := range bytes.Split(buf.Bytes(), []byte{0x1E}) {
		if rec = bytes.TrimSpace(rec); len(rec) > 0 {
			out = append(out, rec)
		}
	}
	if len(out) != n {
		tb.Fatalf("got %d features, want %d", len(out), n)
	}
	return out
}

// BenchmarkFeatureRow decodes features of the synthetic set, the per-row cost
// of importing a GeoJSON Text Sequence before the database sees it.
func BenchmarkFeatureRow(b *testing.B) {
	feats := synthFeatures(b, 4096)
	var size int64
	for _, f := range feats {
		size += int64(len(f))
	}
	b.SetBytes(size / int64(len(feats)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := importer.FeatureRow(feats[i%len(feats)]); err != nil {
			b.Fatal(err)
		}
	}
}

// flexInt is a whole number given as a JSON number or a numeric string, as
// the data model takes them.
type flexInt struct {
	set bool
	n   int
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if s != "" && s[0] == '"' {
		var err error
		if s, err = strconv.Unquote(s); err != nil {
			return err
		}
		if s == "" {
			return nil
		}
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x != math.Trunc(x) || math.Abs(x) > 1e9 {
		return fmt.Errorf("%s must be a whole number", b)
	}
	f.set, f.n = true, int(x)
	return nil
}

func (f flexInt) or(def int) int {
	if f.set {
		return f.n
	}
	return def
}

// typedFeature is a GeoJSON Feature as encoding/json decodes it into Go
// types, the alternative to the hand-written decoder this benchmark weighs.
type typedFeature struct {
	Type     string `json:"type"`
	Geometry struct {
		Type        string    `json:"type"`
		Coordinates []float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties struct {
		EventID       string  `json:"event_id"`
		EventDate     string  `json:"event_date"`
		TimePrecision flexInt `json:"time_precision"`
		EventType     string  `json:"event_type"`
		SubEventType  string  `json:"sub_event_type"`
		Actor1        string  `json:"actor1"`
		Actor2        string  `json:"actor2"`
		Admin1        string  `json:"admin1"`
		Admin2        string  `json:"admin2"`
		Location      string  `json:"location"`
		Region        string  `json:"region"`
		GeoPrecision  flexInt `json:"geo_precision"`
		Fatalities    flexInt `json:"fatalities"`
		Source        string  `json:"source"`
		SourceURL     string  `json:"source_url"`
		Notes         string  `json:"notes"`
		Tags          string  `json:"tags"`
		Timestamp     flexInt `json:"timestamp"`
	} `json:"properties"`
}

// typedFeatureRow decodes raw with encoding/json into typedFeature, then
// normalizes and validates the incident as FeatureRow does (without
// FeatureRow's exact error wording, so a lower bound of its cost).
func typedFeatureRow(raw []byte) (importer.Row, error) {
	var f typedFeature
	if err := json.Unmarshal(raw, &f); err != nil {
		return importer.Row{}, err
	}
	if f.Type != "Feature" || f.Geometry.Type != "Point" || len(f.Geometry.Coordinates) < 2 {
		return importer.Row{}, errors.New("not a Feature with a Point")
	}
	p := &f.Properties
	inc := incident.Incident{EventID: p.EventID, EventDate: p.EventDate, TimePrecision: p.TimePrecision.or(1),
		EventType: p.EventType, SubEventType: p.SubEventType, Actor1: p.Actor1, Actor2: p.Actor2,
		Admin1: p.Admin1, Admin2: p.Admin2, Location: p.Location, Region: p.Region,
		GeoPrecision: p.GeoPrecision.or(1), Fatalities: p.Fatalities.or(0), Source: p.Source,
		SourceURL: p.SourceURL, Notes: p.Notes, Tags: p.Tags,
		Lon: f.Geometry.Coordinates[0], Lat: f.Geometry.Coordinates[1]}
	inc.Normalize()
	return importer.Row{Incident: inc, Timestamp: int64(p.Timestamp.or(0))}, inc.Validate()
}

// BenchmarkDecoders weighs the one decoder (FeatureRow, hand-written over
// the bytes) against a typed encoding/json decoder and the orb + map path it
// replaced (the test's reference), on the same synthetic features.
func BenchmarkDecoders(b *testing.B) {
	feats := synthFeatures(b, 4096)
	var size int64
	for _, f := range feats {
		size += int64(len(f))
	}
	for _, d := range []struct {
		name   string
		decode func([]byte) (importer.Row, error)
	}{
		{"fast", importer.FeatureRow},
		{"typed", typedFeatureRow},
		{"orb", refFeatureRow},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(size / int64(len(feats)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := d.decode(feats[i%len(feats)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
