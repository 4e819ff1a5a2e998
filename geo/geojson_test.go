package geo_test

import (
	"encoding/json"
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
