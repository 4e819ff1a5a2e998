package geo_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"incidentmap/geo"
	"incidentmap/incident"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ back`, "<img src=x onerror=alert(1)>", "a&b",
		"tab\tnew\nline\r", "\x00\x01\x1f", "ar: القائم", "sep\u2028\u2029", "bad \xff utf8"} {
		want, _ := json.Marshal(s)
		got := geo.AppendString(nil, s)
		if string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s; encoding/json gives %s", s, got, want)
		}
	}
}

func TestAppendFeatureIsTypedGeoJSON(t *testing.T) {
	inc := incident.Incident{ID: 7, EventID: "X-1", EventDate: "2021-02-15", TimePrecision: 1, EventType: "Battles",
		GeoPrecision: 2, Fatalities: 3, Lon: 43.96321234, Lat: 36.2376, Notes: `say "hi" <b>`}
	var f struct {
		Type     string `json:"type"`
		ID       int64  `json:"id"`
		Geometry struct {
			Type        string     `json:"type"`
			Coordinates [2]float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(geo.AppendFeature(nil, &inc), &f); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	if f.Type != "Feature" || f.ID != 7 || f.Geometry.Type != "Point" || f.Geometry.Coordinates != [2]float64{43.963212, 36.2376} {
		t.Fatalf("feature = %+v", f)
	}
	if f.Properties["fatalities"] != float64(3) || f.Properties["notes"] != `say "hi" <b>` || f.Properties["event_date"] != "2021-02-15" {
		t.Fatalf("properties = %v", f.Properties)
	}
}

// TestAppendCoordIsTheShortestFloat: the coordinate written from the
// integer of micro-degrees is strconv's shortest 'f' form of the rounded
// float, byte for byte, for random and edge values.
func TestAppendCoordIsTheShortestFloat(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), -1e-7, 1e-7, -4e-7, 5e-7, -5e-7, 180, -180, 90, -90, 0.1, 0.2, 0.3,
		44.671234, -33.3, 1.0000005, 2.5e-6, 123456789.123456, 999999999.999999, 1e9, 1e10, -1e15, 1e20,
		math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, math.SmallestNonzeroFloat64}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2_000_000 {
		switch rng.IntN(3) {
		case 0:
			vals = append(vals, rng.Float64()*360-180)
		case 1:
			vals = append(vals, float64(rng.IntN(360_000_001)-180_000_000)/1e6) // stored, rounded
		default:
			vals = append(vals, (rng.Float64()*2-1)*math.Pow(10, float64(rng.IntN(20)-6)))
		}
	}
	for _, v := range vals {
		want := strconv.AppendFloat(nil, incident.RoundCoord(v), 'f', -1, 64)
		if got := geo.AppendCoord(nil, v); string(got) != string(want) {
			t.Fatalf("AppendCoord(%v) = %s; strconv gives %s", v, got, want)
		}
	}
}

// TestAppendStringMatchesEncodingJSONOnRandomText covers the eight-bytes-at-
// a-time path: long plain runs with one byte of every kind at every offset.
func TestAppendStringMatchesEncodingJSONOnRandomText(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	specials := []string{`"`, `\`, "<", ">", "&", "\x00", "\x1f", "\x7f", "\n", "é", "\u2028", "\xff", "\xe2\x80", "غ", "🚀"}
	for range 200_000 {
		b := make([]byte, 0, 64)
		for range rng.IntN(6) {
			for range rng.IntN(20) {
				b = append(b, byte(0x20+rng.IntN(0x5f)))
			}
			b = append(b, specials[rng.IntN(len(specials))]...)
		}
		s := string(b)
		want, _ := json.Marshal(s)
		if got := geo.AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s; encoding/json gives %s", s, got, want)
		}
	}
}
