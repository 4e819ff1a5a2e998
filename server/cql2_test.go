package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/geojson"

	"incidentmap/internal/testsrv"
)

// TestCQL2Governorate: filtering by a governorate's outline, the common
// spatial filter, as WKT in cql2-text and as GeoJSON in cql2-json (in the
// URL and in a POST body), gives the incidents inside it with an exact
// numberMatched.
func TestCQL2Governorate(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	outline := func(iso string) (string, string) {
		_, _, body := srv.Get(t, "/collections/regions/items/"+iso)
		f, err := geojson.UnmarshalFeature(body)
		if err != nil {
			t.Fatalf("region %s: %v", iso, err)
		}
		g, err := json.Marshal(geojson.NewGeometry(f.Geometry))
		if err != nil {
			t.Fatal(err)
		}
		return wkt.MarshalString(f.Geometry), string(g)
	}
	anbarWKT, anbarJSON := outline("IQ-AN")
	erbilWKT, erbilJSON := outline("IQ-AR")
	cases := []struct {
		name, query, want string
	}{
		{"Anbar WKT", "filter=" + url.QueryEscape("S_INTERSECTS(geometry, "+anbarWKT+")"), "3 8 10 12 13"},
		{"Anbar within, later than 2021-05", "filter=" + url.QueryEscape("S_WITHIN(geometry, "+anbarWKT+") AND event_date > DATE('2021-05-08')"), "12 13"},
		{"not in Anbar", "filter=" + url.QueryEscape("S_DISJOINT(geometry, "+anbarWKT+")"), "1 2 4 5 6 7 9 11"},
		{"Anbar cql2-json", "filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op":"s_intersects","args":[{"property":"geometry"},`+anbarJSON+`]}`), "3 8 10 12 13"},
		{"Erbil WKT (10 KB)", "filter=" + url.QueryEscape("S_INTERSECTS(geometry, "+erbilWKT+")"), "4 7 9"},
		{"Anbar or Erbil, paged", "limit=3&filter=" + url.QueryEscape("S_INTERSECTS(geometry, "+anbarWKT+") OR S_INTERSECTS(geometry, "+erbilWKT+")"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var fc featureCollection
			srv.GetJSON(t, "/collections/incidents/items?"+tc.query, 200, &fc)
			// A spatial filter pages in the cell index's order, as a bbox does.
			ids := fc.ids()
			slices.Sort(ids)
			got := strings.Trim(fmt.Sprint(ids), "[]")
			if tc.want == "" { // the paged case: 8 in all, 3 a page
				if fc.NumberMatched != 8 || fc.NumberReturned != 3 {
					t.Fatalf("numberMatched %d numberReturned %d; want 8 and 3", fc.NumberMatched, fc.NumberReturned)
				}
				return
			}
			if got != tc.want || fc.NumberMatched != int64(len(strings.Fields(tc.want))) {
				t.Fatalf("ids %q numberMatched %d; want %q", got, fc.NumberMatched, tc.want)
			}
		})
	}
	t.Run("Erbil cql2-json in a POST body", func(t *testing.T) {
		body := `{"op":"s_intersects","args":[{"property":"geometry"},` + erbilJSON + `]}`
		resp, err := http.Post(srv.URL+"/collections/incidents/items", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var fc featureCollection
		if resp.StatusCode != 200 || json.Unmarshal(data, &fc) != nil {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
		ids := fc.ids()
		slices.Sort(ids)
		if got := fmt.Sprint(ids); got != "[4 7 9]" || fc.NumberMatched != 3 {
			t.Fatalf("ids %s numberMatched %d; want [4 7 9]", got, fc.NumberMatched)
		}
	})
}

// TestCQL2TemporalCaseArithmeticOnSeed: the temporal functions, CASEI,
// ACCENTI and arithmetic over HTTP, in both encodings.
func TestCQL2TemporalCaseArithmeticOnSeed(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	cases := []struct{ lang, filter, want string }{
		{"", "T_DURING(event_date, INTERVAL('2020-01-01', '2020-12-31'))", "2 3 4 5 6"},
		{"", "T_BEFORE(event_date, DATE('2020-01-08'))", "1 2"},
		{"", "T_AFTER(event_date, INTERVAL('..', '2021-05-08'))", "12 13"},
		{"", "T_INTERSECTS(event_date, TIMESTAMP('2020-01-08T18:30:00Z'))", "3 4"},
		{"", "T_EQUALS(event_date, DATE('2021-05-08')) AND fatalities = 0", "10 11"},
		{"", "CASEI(location) LIKE CASEI('erbil%')", "4 7 9"},
		{"", "ACCENTI(CASEI(location)) = ACCENTI(CASEI('CAMP TÁJI'))", "5"},
		{"", "fatalities * 2 > 6", "2 12"},
		{"", "fatalities - time_precision >= geo_precision", "2 5 12"},
		{"cql2-json", `{"op":"t_during","args":[{"property":"event_date"},{"interval":["2020-01-01","2020-12-31"]}]}`, "2 3 4 5 6"},
		{"cql2-json", `{"op":"like","args":[{"op":"casei","args":[{"property":"location"}]},{"op":"casei","args":["erbil%"]}]}`, "4 7 9"},
		{"cql2-json", `{"op":">","args":[{"op":"*","args":[{"property":"fatalities"},2]},6]}`, "2 12"},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			q := "filter=" + url.QueryEscape(tc.filter)
			if tc.lang != "" {
				q += "&filter-lang=" + tc.lang
			}
			var fc featureCollection
			srv.GetJSON(t, "/collections/incidents/items?"+q, 200, &fc)
			if got := strings.Trim(fmt.Sprint(fc.ids()), "[]"); got != tc.want {
				t.Fatalf("ids %q; want %q", got, tc.want)
			}
		})
	}
}

// TestConformanceListsCQL2Classes: /conformance names what is implemented
// and not what is not.
func TestConformanceListsCQL2Classes(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var conf struct {
		ConformsTo []string `json:"conformsTo"`
	}
	srv.GetJSON(t, "/conformance", 200, &conf)
	all := strings.Join(conf.ConformsTo, " ")
	for _, c := range []string{"cql2-json", "advanced-comparison-operators", "case-insensitive-comparison",
		"accent-insensitive-comparison", "basic-spatial-functions", "basic-spatial-functions-plus", "spatial-functions",
		"temporal-functions", "property-property", "arithmetic", "ogcapi-features-2/1.0/conf/crs"} {
		if !strings.Contains(all, "/conf/"+strings.TrimPrefix(c, "ogcapi-features-2/1.0/conf/")) {
			t.Errorf("conformance lacks %s", c)
		}
	}
	for _, c := range []string{"array-functions", "/conf/functions"} {
		if strings.Contains(all, c) {
			t.Errorf("conformance claims %s, which is not implemented", c)
		}
	}
}
