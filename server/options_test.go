package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

// TestOptionsAnswersAllow checks Part 4 discovery: OPTIONS on the items and
// on an item is 200 with an Allow header listing the write methods only when
// the write API is on, and a CORS preflight is still answered as one.
func TestOptionsAnswersAllow(t *testing.T) {
	off := writer{srv: testsrv.StartSeeded(t)}
	on := startWriter(t)
	cases := []struct {
		name   string
		w      writer
		path   string
		status int
		allow  string
	}{
		{"items, writes off", off, "/collections/incidents/items", 200, "GET, HEAD, OPTIONS"},
		{"items, writes on", on, "/collections/incidents/items", 200, "GET, HEAD, OPTIONS, POST"},
		{"item, writes off", off, "/collections/incidents/items/3", 200, "GET, HEAD, OPTIONS"},
		{"item, writes on", on, "/collections/incidents/items/3", 200, "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"},
		{"absent item", on, "/collections/incidents/items/999", 404, ""},
		{"regions are read-only", on, "/collections/regions/items", 200, "GET, HEAD, OPTIONS"},
		{"region", on, "/collections/regions/items/IQ-AN", 200, "GET, HEAD, OPTIONS"},
		{"unknown collection", on, "/collections/nope/items", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.w
			w.token = "" // discovery needs no token
			resp, body := w.send(t, "OPTIONS", tc.path, "", "", nil)
			if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow {
				t.Fatalf("status %d Allow %q; want %d %q (%s)", resp.StatusCode, resp.Header.Get("Allow"), tc.status, tc.allow, body)
			}
			if tc.status == 200 && len(body) != 0 {
				t.Fatalf("OPTIONS has a body: %s", body)
			}
		})
	}
	// A preflight is still the CORS layer's (204, no Allow): which origins
	// may write is its configuration, not discovery's.
	resp, _ := on.send(t, "OPTIONS", "/collections/incidents/items/3", "", "", map[string]string{
		"Origin": "https://gis.example.org", "Access-Control-Request-Method": "GET"})
	if resp.StatusCode != 204 || resp.Header.Get("Allow") != "" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") {
		t.Fatalf("preflight: %d, Allow-Methods %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Methods"))
	}
	var conf struct{ ConformsTo []string }
	on.srv.GetJSON(t, "/conformance", 200, &conf)
	all := strings.Join(conf.ConformsTo, " ")
	for _, c := range []string{"create-replace-delete", "update", "optimistic-locking-etags", "features"} {
		if !strings.Contains(all, "ogcapi-features-4/1.0/conf/"+c+" ") && !strings.HasSuffix(all, "ogcapi-features-4/1.0/conf/"+c) {
			t.Errorf("conformance lacks Part 4 %s: %v", c, conf.ConformsTo)
		}
	}
}

// TestSearchByPOST sends queries in the body of POST …/items: no token is
// needed, the answer is the GET's for the same parameters, and a Feature body
// is still a create (refused here: writes are off).
func TestSearchByPOST(t *testing.T) {
	w := writer{srv: testsrv.StartSeeded(t)}
	var conf struct{ ConformsTo []string }
	w.srv.GetJSON(t, "/conformance", 200, &conf)
	cql2JSON := strings.Contains(strings.Join(conf.ConformsTo, " "), "cql2/1.0/conf/cql2-json")
	cases := []struct {
		name, query, body string
		status            int
		ids               string // or the error description's words
		needsJSON         bool
	}{
		{"text filter", "", `{"filter":"event_type = 'Riots' OR fatalities >= 3"}`, 200, "1 2 5 12", false},
		{"parameters in the body", "", `{"filter":"fatalities >= 1","limit":2,"bbox":[41,32,45,37]}`, 200, "", false},
		{"parameters in the URL too", "?sortby=id&limit=3", `{"filter":"fatalities >= 1"}`, 200, "2 5 7", false},
		{"bare CQL2 JSON", "", `{"op":"=","args":[{"property":"event_type"},"Riots"]}`, 200, "1", true},
		{"wrapped CQL2 JSON", "", `{"filter":{"op":">=","args":[{"property":"fatalities"},3]},"filter-lang":"cql2-json"}`, 200, "2 5 12", true},
		{"a parameter twice", "?limit=3", `{"filter":"id = 1","limit":2}`, 400, "both", false},
		{"unknown member", "", `{"filter":"id = 1","colour":"red"}`, 400, "colour", false},
		{"bad filter", "", `{"filter":"id = = 1"}`, 400, "filter", false},
		{"a Feature is a create", "", newFeature, 405, "writes are off", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := w.send(t, "POST", "/collections/incidents/items"+tc.query, "application/json", tc.body, nil)
			if tc.needsJSON && !cql2JSON {
				// Until CQL2 JSON is parsed, the answer must say so.
				if resp.StatusCode != 400 || !strings.Contains(string(body), "cql2-json") {
					t.Fatalf("CQL2 JSON not offered: status %d body %s; want a 400 naming cql2-json", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d; want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status != 200 {
				if !strings.Contains(string(body), tc.ids) {
					t.Fatalf("error %s does not say %q", body, tc.ids)
				}
				return
			}
			var fc featureCollection
			if err := json.Unmarshal(body, &fc); err != nil {
				t.Fatalf("not a FeatureCollection (%v): %s", err, body)
			}
			if tc.ids != "" {
				if got := strings.Trim(fmt.Sprint(fc.ids()), "[]"); got != tc.ids {
					t.Fatalf("ids %q; want %q", got, tc.ids)
				}
			}
			if tc.name == "parameters in the body" {
				if len(fc.Features) != 2 || fc.NumberMatched != 5 {
					t.Fatalf("%d features of %d matched; want 2 of 5", len(fc.Features), fc.NumberMatched)
				}
				// The next page is a GET that carries the body's parameters.
				var next string
				for _, l := range fc.Links {
					if l.Rel == "next" {
						next = l.Href
					}
				}
				if next == "" {
					t.Fatalf("no next link: %+v", fc.Links)
				}
				var page featureCollection
				w.srv.GetJSON(t, strings.TrimPrefix(next, w.srv.URL), 200, &page)
				if len(page.Features) != 2 || page.NumberMatched != 5 {
					t.Fatalf("next page %s: %d features of %d", next, len(page.Features), page.NumberMatched)
				}
			}
		})
	}
}
