package geo_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"incidentmap/geo"
	"incidentmap/incident"
)

func TestAppendFeatureSelect(t *testing.T) {
	inc := incident.Incident{ID: 7, EventID: "E-7", EventDate: "2021-02-03", EventType: "Riots", Fatalities: 2,
		TimePrecision: 1, GeoPrecision: 1, Actor2: `a "quoted" <b>`, Lon: 44.1, Lat: 33.2}
	var full map[string]any
	if err := json.Unmarshal(geo.AppendFeature(nil, &inc), &full); err != nil {
		t.Fatal(err)
	}
	var same map[string]any
	if err := json.Unmarshal(geo.AppendFeatureSelect(nil, &inc, geo.PropertyNames, false), &same); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(full, same) {
		t.Fatalf("every property selected:\n%v\nwant\n%v", same, full)
	}
	for _, name := range geo.PropertyNames {
		if !geo.IsProperty(name) {
			t.Errorf("IsProperty(%q) = false", name)
		}
	}
	if geo.IsProperty("geometry") || geo.IsProperty("nope") {
		t.Error("IsProperty accepts a name that is not a property")
	}
	cases := []struct {
		props []string
		skip  bool
		want  string
	}{
		{[]string{"fatalities", "event_date"}, false,
			`{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[44.1,33.2]},"properties":{"fatalities":2,"event_date":"2021-02-03"}}`},
		{[]string{"actor2"}, true, `{"type":"Feature","id":7,"geometry":null,"properties":{"actor2":"a \"quoted\" \u003cb\u003e"}}`},
		{[]string{}, true, `{"type":"Feature","id":7,"geometry":null,"properties":{}}`},
		{[]string{"nope", "event_id"}, true, `{"type":"Feature","id":7,"geometry":null,"properties":{"event_id":"E-7"}}`},
	}
	for _, tc := range cases {
		if got := string(geo.AppendFeatureSelect(nil, &inc, tc.props, tc.skip)); got != tc.want {
			t.Errorf("%v skip %v:\n%s\nwant\n%s", tc.props, tc.skip, got, tc.want)
		}
	}
}
