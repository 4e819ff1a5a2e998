package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

type featureCollection struct {
	Type           string    `json:"type"`
	NumberMatched  int64     `json:"numberMatched"`
	NumberReturned int       `json:"numberReturned"`
	TimeStamp      string    `json:"timeStamp"`
	Links          []link    `json:"links"`
	Features       []feature `json:"features"`
}

type link struct {
	Href, Rel, Type string
}

type feature struct {
	Type     string `json:"type"`
	ID       *int64 `json:"id"`
	Geometry struct {
		Type        string    `json:"type"`
		Coordinates []float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

func (fc featureCollection) ids() []int64 {
	out := make([]int64, len(fc.Features))
	for i, f := range fc.Features {
		out[i] = *f.ID
	}
	return out
}

func (fc featureCollection) link(rel string) *link {
	for i := range fc.Links {
		if fc.Links[i].Rel == rel {
			return &fc.Links[i]
		}
	}
	return nil
}

func TestItemsFilters(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	cases := []struct {
		name    string
		query   string
		want    string
		matched int64
	}{
		{"all", "", "1 2 3 4 5 6 7 8 9 10 11 12 13", 13},
		{"bbox Erbil", "bbox=43.5,35.9,44.5,36.5", "4 7 9", 3},
		{"bbox with heights", "bbox=43.5,35.9,0,44.5,36.5,1000", "4 7 9", 3},
		{"year 2021", "datetime=2021-01-01/2021-12-31", "7 8 9 10 11 12 13", 7},
		{"until 2020-01-08", "datetime=../2020-01-08", "1 2 3 4", 4},
		{"from mid 2021", "datetime=2021-06-01/..", "12 13", 2},
		{"instant", "datetime=2021-05-08", "10 11", 2},
		{"date-time instant", "datetime=2021-05-08T12:00:00Z", "10 11", 2},
		{"event type", "event_type=Riots", "1", 1},
		{"sub event type list", "sub_event_types=Air/drone strike,Violent demonstration", "1 2 9 10 12", 5},
		{"sub event type is one value", "sub_event_type=Air/drone strike,Violent demonstration", "", 0},
		{"event type list", "event_types=Riots,Battles", "1", 1},
		{"event type is not a list", "event_type=Battles,Riots", "", 0},
		{"region", "region=Kurdistan Region", "4 7 9", 3},
		{"region is not admin1", "region=Erbil", "", 0},
		{"region is not an ISO code", "region=IQ-AN", "", 0},
		{"region is case-sensitive", "region=anbar", "", 0},
		{"admin1", "admin1=Erbil", "4 7 9", 3},
		{"regions by governorate", "regions=erbil", "4 7 9", 3},
		{"regions any of", "regions=IQ-AN,Kurdistan Region", "3 4 7 8 9 10 12 13", 8},
		{"actors any of, either side", "actors=Military Forces of the United States,US Embassy", "2 6 12", 3},
		{"actor2 exact", "actor2=US Embassy", "6", 1},
		{"region and year", "region=Baghdad&datetime=2021-01-01/2021-12-31", "11", 1},
		{"min fatalities", "min_fatalities=3", "2 5 12", 3},
		{"max fatalities", "max_fatalities=0&region=Anbar", "3 10 13", 3},
		{"limit", "limit=2", "1 2", 13},
		{"limit clamps", "limit=1000000", "1 2 3 4 5 6 7 8 9 10 11 12 13", 13},
		{"offset past end", "offset=20", "", 13},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var fc featureCollection
			srv.GetJSON(t, "/collections/incidents/items?"+tc.query, 200, &fc)
			got := strings.Trim(fmt.Sprint(fc.ids()), "[]")
			if got != tc.want || fc.NumberMatched != tc.matched || fc.NumberReturned != len(fc.Features) {
				t.Fatalf("ids %q matched %d returned %d; want %q matched %d", got, fc.NumberMatched, fc.NumberReturned, tc.want, tc.matched)
			}
		})
	}
}

func TestItemsPagingFollowsNextLinks(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	seen := map[int64]bool{}
	path := "/collections/incidents/items?limit=4"
	pages := 0
	for path != "" {
		var fc featureCollection
		srv.GetJSON(t, path, 200, &fc)
		pages++
		for _, id := range fc.ids() {
			if seen[id] {
				t.Fatalf("incident %d returned twice", id)
			}
			seen[id] = true
		}
		if fc.NumberMatched != 13 {
			t.Fatalf("numberMatched %d on page %d", fc.NumberMatched, pages)
		}
		if self := fc.link("self"); self == nil || self.Type != "application/geo+json" {
			t.Fatalf("page %d has no self link of type application/geo+json: %+v", pages, fc.Links)
		}
		path = ""
		if next := fc.link("next"); next != nil {
			if next.Type != "application/geo+json" {
				t.Fatalf("next link type %q", next.Type)
			}
			u, err := url.Parse(next.Href)
			if err != nil || !strings.HasPrefix(next.Href, srv.URL) {
				t.Fatalf("next link %q is not on this server", next.Href)
			}
			path = u.RequestURI()
		}
		if pages > 1 && fc.link("prev") == nil {
			t.Fatalf("page %d has no prev link", pages)
		}
	}
	if len(seen) != 13 || pages != 4 {
		t.Fatalf("paging saw %d incidents in %d pages; want 13 in 4", len(seen), pages)
	}
}

func TestItemsGeoJSONShape(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	status, ctype, body := srv.Get(t, "/collections/incidents/items?event_type=Riots")
	if status != 200 || ctype != "application/geo+json" {
		t.Fatalf("status %d type %q", status, ctype)
	}
	var fc featureCollection
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, body)
	}
	f := fc.Features[0]
	if fc.Type != "FeatureCollection" || f.Type != "Feature" || f.ID == nil || *f.ID != 1 || f.Geometry.Type != "Point" {
		t.Fatalf("feature %+v", f)
	}
	if c := f.Geometry.Coordinates; len(c) != 2 || c[0] != 44.3958 || c[1] != 33.2986 {
		t.Fatalf("coordinates %v; want [lon, lat] = [44.3958, 33.2986]", c)
	}
	p := f.Properties
	for name, want := range map[string]any{"event_id": "SEED-IRQ-001", "event_date": "2019-12-31", "time_precision": 1.0,
		"geo_precision": 1.0, "fatalities": 0.0, "region": "Baghdad", "admin1": "Baghdad", "sub_event_type": "Violent demonstration"} {
		if p[name] != want {
			t.Errorf("property %s = %#v (%T); want %#v", name, p[name], p[name], want)
		}
	}
}

func TestItemByID(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var f feature
	srv.GetJSON(t, "/collections/incidents/items/12", 200, &f)
	if *f.ID != 12 || f.Properties["location"] != "Al-Qaim, Iraq–Syria border" || f.Properties["fatalities"] != 4.0 {
		t.Fatalf("item 12 = %+v", f)
	}
	for _, path := range []string{"/collections/incidents/items/99", "/collections/incidents/items/abc", "/collections/incidents/items/0"} {
		var e struct{ Code, Description string }
		srv.GetJSON(t, path, 404, &e)
		if e.Code != "NotFound" || e.Description == "" {
			t.Errorf("%s: error body %+v", path, e)
		}
	}
}

func TestBadParametersAre400JSON(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	cases := map[string]string{
		"bbox=1,2,3":                     "bbox",
		"bbox=40,30,45,95":               "latitude 95",
		"bbox=40,36,45,35":               "minimum latitude",
		"bbox=181,30,-170,35":            "longitude 181",
		"bbox=a,b,c,d":                   "not a finite number",
		"bbox-crs=EPSG:2154":             "bbox-crs",
		"limit=-1":                       "limit",
		"limit=0":                        "limit",
		"limit=abc":                      "limit",
		"offset=-5":                      "offset",
		"datetime=2021-13-01":            "datetime",
		"datetime=2021-12-31/2021-01-01": "starts after it ends",
		"datetime=../..":                 "open at both ends",
		"foo=1":                          `"foo"`,
		"limit=1&limit=2":                "given 2 times",
		"min_fatalities=-1":              "min_fatalities",
		"event_types=Riots,":             "empty entry",
		"actor2=":                        "IS NULL",
	}
	for q, want := range cases {
		t.Run(q, func(t *testing.T) {
			status, ctype, body := srv.Get(t, "/collections/incidents/items?"+q)
			var e struct{ Code, Description string }
			if status != 400 || !strings.HasPrefix(ctype, "application/json") || json.Unmarshal(body, &e) != nil {
				t.Fatalf("status %d type %q body %s", status, ctype, body)
			}
			if e.Code == "" || !strings.Contains(e.Description, want) {
				t.Fatalf("error %+v does not mention %q", e, want)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var h struct{ Status string }
	srv.GetJSON(t, "/healthz", 200, &h)
	if h.Status != "ok" {
		t.Fatalf("healthz %+v", h)
	}
}
