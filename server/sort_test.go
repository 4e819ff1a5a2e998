package server_test

import (
	"cmp"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

// sortKey is one key of a sortby as the test reads it back.
type sortKey struct {
	name string
	desc bool
}

// compareBy orders two features' properties by keys, then by id in the last
// key's direction, as the server promises.
func compareBy(keys []sortKey) func(a, b feature) int {
	return func(a, b feature) int {
		last := false
		for _, k := range keys {
			last = k.desc
			var c int
			if k.name == "id" {
				c = cmp.Compare(*a.ID, *b.ID)
			} else {
				switch x := a.Properties[k.name].(type) {
				case float64:
					c = cmp.Compare(x, b.Properties[k.name].(float64))
				case string:
					c = strings.Compare(x, b.Properties[k.name].(string))
				}
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		c := cmp.Compare(*a.ID, *b.ID)
		if last {
			c = -c
		}
		return c
	}
}

// allPages follows next links from path and returns every feature.
func allPages(t *testing.T, srv *testsrv.Server, path string) []feature {
	t.Helper()
	var out []feature
	for path != "" {
		var fc featureCollection
		srv.GetJSON(t, path, 200, &fc)
		out = append(out, fc.Features...)
		path = ""
		for _, l := range fc.Links {
			if l.Rel == "next" {
				path = strings.TrimPrefix(l.Href, srv.URL)
			}
		}
	}
	return out
}

// TestSortByPagesTotally sorts 3,000 generated incidents by one and several
// keys in both directions, reads them in pages of 97 through next links, and
// requires every incident exactly once in the order the keys (then id) give.
func TestSortByPagesTotally(t *testing.T) {
	srv := testsrv.Start(t, testsrv.OpenSynthetic(t, 3000), nil)
	all := allPages(t, srv, "/collections/incidents/items?limit=10000")
	if len(all) != 3000 {
		t.Fatalf("%d incidents; want 3000", len(all))
	}
	for _, sortby := range []string{"-fatalities", "event_date", "-event_date", "event_type,-event_date",
		"-fatalities,event_date", "region,admin1,-id", "+geo_precision,actor1", "updated_at,-time_precision", "-id"} {
		t.Run(sortby, func(t *testing.T) {
			var keys []sortKey
			for _, k := range strings.Split(sortby, ",") {
				keys = append(keys, sortKey{strings.TrimLeft(k, "+-"), strings.HasPrefix(k, "-")})
			}
			got := allPages(t, srv, "/collections/incidents/items?limit=97&sortby="+url.QueryEscape(sortby))
			want := slices.Clone(all)
			slices.SortStableFunc(want, compareBy(keys))
			if len(got) != len(want) {
				t.Fatalf("%d features through the pages; want %d", len(got), len(want))
			}
			for i := range got {
				if *got[i].ID != *want[i].ID {
					t.Fatalf("feature %d is id %d; want %d (%v vs %v)", i, *got[i].ID, *want[i].ID, got[i].Properties, want[i].Properties)
				}
			}
		})
	}
	// A + left unescaped in the URL arrives as a space; both mean ascending.
	var plus, space featureCollection
	srv.GetJSON(t, "/collections/incidents/items?limit=50&sortby=+fatalities", 200, &plus)
	srv.GetJSON(t, "/collections/incidents/items?limit=50&sortby=%2Bfatalities", 200, &space)
	if !slices.Equal(plus.ids(), space.ids()) || plus.Features[0].Properties["fatalities"] != 0.0 {
		t.Fatalf("sortby=+fatalities and %%2Bfatalities differ or do not start at 0: %v %v", plus.ids()[:5], space.ids()[:5])
	}
}

func TestSortByAndSelectionErrors(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	for q, want := range map[string]string{
		"sortby=geometry":               "not sortable",
		"sortby=notes":                  "not sortable",
		"sortby=fatalities,-fatalities": "twice",
		"sortby=relevance":              "needs a q",
		"sortby=":                       "not sortable",
		"properties=geometry":           "not a property",
		"properties=fatalities,":        "not a property",
		"skipGeometry=yes":              "true or false",
		"f=csv&properties=fatalities":   "download",
		"f=kml&skipGeometry=true":       "download",
	} {
		status, _, body := srv.Get(t, "/collections/incidents/items?"+q)
		var e struct{ Code, Description string }
		if status != 400 || json.Unmarshal(body, &e) != nil || !strings.Contains(e.Description, want) {
			t.Errorf("%s: %d %s; want 400 saying %q", q, status, body, want)
		}
	}
}

func TestPropertiesAndSkipGeometry(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var fc struct {
		Features []struct {
			ID         int64           `json:"id"`
			Geometry   json.RawMessage `json:"geometry"`
			Properties map[string]any  `json:"properties"`
		} `json:"features"`
	}
	srv.GetJSON(t, "/collections/incidents/items?properties=fatalities,event_date&skipGeometry=true&sortby=-fatalities&limit=3", 200, &fc)
	if len(fc.Features) != 3 || fc.Features[0].ID != 2 || fc.Features[1].ID != 12 {
		t.Fatalf("features %+v", fc.Features)
	}
	for _, f := range fc.Features {
		keys := make([]string, 0, len(f.Properties))
		for k := range f.Properties {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if string(f.Geometry) != "null" || strings.Join(keys, ",") != "event_date,fatalities" {
			t.Fatalf("feature %d: geometry %s properties %v", f.ID, f.Geometry, f.Properties)
		}
	}
	fc.Features = nil
	srv.GetJSON(t, "/collections/incidents/items?properties=&limit=1", 200, &fc)
	if len(fc.Features[0].Properties) != 0 || string(fc.Features[0].Geometry) == "null" {
		t.Fatalf("properties= : %+v", fc.Features[0])
	}
	// The next link keeps the selection.
	status, _, body := srv.Get(t, "/collections/incidents/items?properties=event_id&limit=2")
	if status != 200 || !strings.Contains(string(body), `"rel":"next"`) || !strings.Contains(string(body), "properties=event_id") {
		t.Fatalf("next link loses properties: %s", body)
	}
}

func TestSortables(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var doc struct {
		Schema     string                    `json:"$schema"`
		Properties map[string]map[string]any `json:"properties"`
	}
	status, ctype, body := srv.Get(t, "/collections/incidents/sortables")
	if status != 200 || ctype != "application/schema+json" || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("sortables: %d %q %s", status, ctype, body)
	}
	if doc.Properties["fatalities"]["type"] != "integer" || doc.Properties["event_date"]["format"] != "date" ||
		doc.Properties["notes"] != nil || doc.Properties["geometry"] != nil {
		t.Fatalf("sortables: %s", body)
	}
	var col struct{ Links []link }
	srv.GetJSON(t, "/collections/incidents", 200, &col)
	found := false
	for _, l := range col.Links {
		found = found || strings.HasSuffix(l.Href, "/collections/incidents/sortables") && strings.HasSuffix(l.Rel, "/sortables")
	}
	if !found {
		t.Fatalf("the collection does not link its sortables: %+v", col.Links)
	}
	if status, ctype, _ := srv.Get(t, "/collections/incidents/sortables?f=html"); status != 200 || !strings.HasPrefix(ctype, "text/html") {
		t.Fatalf("sortables as HTML: %d %q", status, ctype)
	}
}
