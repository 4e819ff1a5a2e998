package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/server"
)

type jsonLinks struct {
	Links []link `json:"links"`
}

func (l jsonLinks) find(rel, typ string) *link {
	for i := range l.Links {
		if l.Links[i].Rel == rel && (typ == "" || l.Links[i].Type == typ) {
			return &l.Links[i]
		}
	}
	return nil
}

// TestOGCCoreAssertions checks the assertions of OGC API – Features Part 1
// (and Part 3's queryables) that a program can check.
func TestOGCCoreAssertions(t *testing.T) {
	srv := testsrv.StartSeeded(t)

	t.Run("landing links", func(t *testing.T) {
		var l jsonLinks
		srv.GetJSON(t, "/", 200, &l)
		for _, want := range [][2]string{{"self", "application/json"}, {"service-desc", "application/vnd.oai.openapi+json;version=3.0"},
			{"service-doc", "text/html"}, {"conformance", "application/json"}, {"data", "application/json"}} {
			lk := l.find(want[0], want[1])
			if lk == nil || !strings.HasPrefix(lk.Href, srv.URL+"/") {
				t.Errorf("landing page has no %s link of type %s: %+v", want[0], want[1], l.Links)
			}
		}
		if lk := l.find("service-desc", ""); lk == nil || lk.Href != srv.URL+"/api" {
			t.Errorf("service-desc %+v; want %s/api", lk, srv.URL)
		}
	})

	t.Run("conformance", func(t *testing.T) {
		var c struct{ ConformsTo []string }
		srv.GetJSON(t, "/conformance", 200, &c)
		got := strings.Join(c.ConformsTo, "\n")
		for _, want := range []string{
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
			"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
			"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
			"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
			"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
			"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
			"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
		} {
			if !strings.Contains(got+"\n", want+"\n") {
				t.Errorf("conformance lacks %s", want)
			}
		}
	})

	t.Run("collections", func(t *testing.T) {
		status, ctype, body := srv.Get(t, "/collections")
		var cs struct {
			jsonLinks
			Collections []struct {
				jsonLinks
				ID, Title, ItemType string
				Extent              struct {
					Spatial struct {
						BBox [][]float64
						CRS  string
					}
					Temporal struct{ Interval [][]*string }
				}
			}
		}
		if status != 200 || ctype != "application/json" || json.Unmarshal(body, &cs) != nil {
			t.Fatalf("status %d type %q body %s", status, ctype, body)
		}
		if cs.find("self", "application/json") == nil || len(cs.Collections) == 0 || cs.Collections[0].ID != "incidents" {
			t.Fatalf("collections %s", body)
		}
		c := cs.Collections[0]
		if c.ItemType != "feature" || c.Title == "" || c.find("items", "application/geo+json") == nil || c.find("self", "") == nil {
			t.Errorf("incidents collection %+v", c)
		}
		if b := c.Extent.Spatial.BBox; len(b) != 1 || len(b[0]) != 4 || b[0][0] != 41.08 || b[0][1] != 33.2625 || b[0][2] != 44.3958 || b[0][3] != 36.2376 ||
			c.Extent.Spatial.CRS != "http://www.opengis.net/def/crs/OGC/1.3/CRS84" {
			t.Errorf("spatial extent %+v; want [[41.08,33.2625,44.3958,36.2376]] in CRS84", c.Extent.Spatial)
		}
		if iv := c.Extent.Temporal.Interval; len(iv) != 1 || len(iv[0]) != 2 || iv[0][0] == nil || *iv[0][0] != "2019-12-31T00:00:00Z" || iv[0][1] == nil || *iv[0][1] != "2021-07-07T23:59:59Z" {
			t.Errorf("temporal extent %+v", iv)
		}
		var one struct{ ID string }
		srv.GetJSON(t, "/collections/incidents", 200, &one)
		if one.ID != "incidents" {
			t.Errorf("/collections/incidents id %q", one.ID)
		}
	})

	t.Run("items links", func(t *testing.T) {
		var fc featureCollection
		srv.GetJSON(t, "/collections/incidents/items?limit=5&offset=5", 200, &fc)
		for _, rel := range []string{"self", "next", "prev"} {
			if l := fc.link(rel); l == nil || l.Type != "application/geo+json" {
				t.Errorf("%s link %+v; want type application/geo+json", rel, l)
			}
		}
		alt := jsonLinks{fc.Links}.find("alternate", "text/html")
		if alt == nil || !strings.Contains(alt.Href, "f=html") {
			t.Errorf("no alternate text/html link: %+v", fc.Links)
		}
		if l := fc.link("collection"); l == nil || l.Href != srv.URL+"/collections/incidents" {
			t.Errorf("collection link %+v", l)
		}
	})

	t.Run("item links", func(t *testing.T) {
		var f struct{ jsonLinks }
		srv.GetJSON(t, "/collections/incidents/items/3", 200, &f)
		if f.find("self", "application/geo+json") == nil || f.find("alternate", "text/html") == nil || f.find("collection", "application/json") == nil {
			t.Errorf("item links %+v", f.Links)
		}
	})

	t.Run("queryables", func(t *testing.T) {
		status, ctype, body := srv.Get(t, "/collections/incidents/queryables")
		var q struct {
			Schema     string `json:"$schema"`
			ID         string `json:"$id"`
			Type       string
			Properties map[string]struct {
				Type, Format string
				Enum         []any
			}
		}
		if status != 200 || ctype != "application/schema+json" || json.Unmarshal(body, &q) != nil {
			t.Fatalf("status %d type %q body %s", status, ctype, body)
		}
		if q.Schema != "https://json-schema.org/draft/2020-12/schema" || q.Type != "object" || q.ID != srv.URL+"/collections/incidents/queryables" {
			t.Errorf("schema head %+v", q)
		}
		p := q.Properties
		if p["event_date"].Format != "date" || p["fatalities"].Type != "integer" || p["geometry"].Format != "geometry-point" ||
			len(p["event_type"].Enum) != 6 || p["updated_at"].Format != "date-time" {
			t.Errorf("properties %+v", p)
		}
	})

	t.Run("errors", func(t *testing.T) {
		cases := []struct {
			path   string
			status int
			code   string
		}{
			{"/collections/incidents/items?color=red", 400, "UnknownParameter"},
			{"/collections?foo=1", 400, "UnknownParameter"},
			{"/collections/incidents/items?fatalities=many", 400, "InvalidParameterValue"},
			{"/collections/nope", 404, "NotFound"},
			{"/collections/nope/items", 404, "NotFound"},
			{"/collections/nope/queryables", 404, "NotFound"},
			{"/collections/incidents/items/424242", 404, "NotFound"},
			{"/collections/incidents/items?f=xml", 406, "NotAcceptable"},
			{"/collections?f=csv", 406, "NotAcceptable"},
			{"/?f=pdf", 406, "NotAcceptable"},
		}
		for _, tc := range cases {
			status, ctype, body := srv.Get(t, tc.path)
			var e struct{ Code, Description string }
			if status != tc.status || !strings.HasPrefix(ctype, "application/json") || json.Unmarshal(body, &e) != nil || e.Code != tc.code || e.Description == "" {
				t.Errorf("%s: status %d type %q body %s; want %d %s", tc.path, status, ctype, body, tc.status, tc.code)
			}
		}
	})

	t.Run("limit clamps to maximum", func(t *testing.T) {
		cfg := testsrvConfig()
		cfg.DefaultLimit, cfg.MaxLimit = 2, 3
		small := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
		var fc featureCollection
		small.GetJSON(t, "/collections/incidents/items?limit=50", 200, &fc)
		if fc.NumberReturned != 3 || len(fc.Features) != 3 || fc.NumberMatched != 13 || fc.link("next") == nil {
			t.Fatalf("limit=50 with maximum 3: returned %d matched %d links %+v", fc.NumberReturned, fc.NumberMatched, fc.Links)
		}
	})

	t.Run("property parameters", func(t *testing.T) {
		for q, want := range map[string]string{
			"fatalities=1":             "7 8",
			"location=Erbil airport":   "9",
			"event_date=2021-05-08":    "10 11",
			"geo_precision=1&admin1=X": "",
		} {
			var fc featureCollection
			srv.GetJSON(t, "/collections/incidents/items?"+q, 200, &fc)
			if got := strings.Trim(fmt.Sprint(fc.ids()), "[]"); got != want {
				t.Errorf("%s: ids %q; want %q", q, got, want)
			}
		}
	})
}

// TestOpenAPIFromParameterTable checks that /api documents exactly the
// parameters the items parser accepts, with limit's default and maximum.
func TestOpenAPIFromParameterTable(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	status, ctype, body := srv.Get(t, "/api")
	if status != 200 || ctype != "application/vnd.oai.openapi+json;version=3.0" {
		t.Fatalf("/api: status %d type %q", status, ctype)
	}
	var doc struct {
		OpenAPI string
		Paths   map[string]struct {
			Get struct {
				Parameters []struct {
					Ref string `json:"$ref"`
				}
			}
		}
		Components struct {
			Parameters map[string]struct {
				Name, In string
				Schema   map[string]any
			}
		}
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Fatalf("openapi %q, %v", doc.OpenAPI, err)
	}
	limit := doc.Components.Parameters["limit"]
	if limit.Schema["default"] != 100.0 || limit.Schema["maximum"] != 10000.0 || limit.Schema["minimum"] != 1.0 {
		t.Errorf("limit schema %+v; want default 100, maximum 10000, minimum 1", limit.Schema)
	}
	for _, p := range []string{"/", "/conformance", "/api", "/collections", "/collections/incidents", "/collections/incidents/items",
		"/collections/incidents/items/{featureId}", "/collections/incidents/queryables"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("/api has no path %s", p)
		}
	}
	items := doc.Paths["/collections/incidents/items"].Get.Parameters
	if len(items) < 10 {
		t.Fatalf("items has %d parameters", len(items))
	}
	// Every documented parameter is accepted (not 400 UnknownParameter) and an
	// undocumented one is refused: the document and the parser are one table.
	for _, ref := range items {
		p := doc.Components.Parameters[strings.TrimPrefix(ref.Ref, "#/components/parameters/")]
		if p.Name == "" || p.In != "query" {
			t.Fatalf("parameter %s does not resolve: %+v", ref.Ref, p)
		}
		status, _, body := srv.Get(t, "/collections/incidents/items?"+p.Name+"=@")
		if status == 400 && strings.Contains(string(body), "UnknownParameter") {
			t.Errorf("documented parameter %s is refused as unknown", p.Name)
		}
	}
}

// TestHTMLNegotiation checks that browsers get pages, clients JSON, and that
// text from the data is escaped.
func TestHTMLNegotiation(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	evil := incident.Incident{EventID: "XSS-1", EventDate: "2021-01-01", EventType: "Riots", TimePrecision: 1, GeoPrecision: 1,
		Notes: `<script>alert("x")</script>`, Location: `<img src=x onerror=alert(1)>`, Lon: 44, Lat: 33}
	if _, err := st.Upsert(context.Background(), []incident.Incident{evil}); err != nil {
		t.Fatal(err)
	}
	srv := testsrv.Start(t, st, nil)
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, tc := range []struct {
		path, accept, wantType string
	}{
		{"/", browser, "text/html; charset=utf-8"},
		{"/", "", "application/json"},
		{"/", "application/json", "application/json"},
		{"/?f=html", "", "text/html; charset=utf-8"},
		{"/?f=json", browser, "application/json"},
		{"/collections", browser, "text/html; charset=utf-8"},
		{"/collections", "application/json, text/html;q=0.5", "application/json"},
		{"/collections/incidents", browser, "text/html; charset=utf-8"},
		{"/collections/incidents/items", browser, "text/html; charset=utf-8"},
		{"/collections/incidents/items", "application/geo+json", "application/geo+json"},
		{"/collections/incidents/items/14", browser, "text/html; charset=utf-8"},
		{"/collections/incidents/queryables", browser, "text/html; charset=utf-8"},
		{"/api", browser, "text/html; charset=utf-8"},
		{"/conformance", browser, "text/html; charset=utf-8"},
	} {
		req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		buf := make([]byte, 1<<16)
		for {
			n, err := resp.Body.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		body := sb.String()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.wantType {
			t.Errorf("%s Accept %q: %d %q; want %q", tc.path, tc.accept, resp.StatusCode, resp.Header.Get("Content-Type"), tc.wantType)
			continue
		}
		if strings.HasPrefix(tc.wantType, "text/html") {
			if !strings.Contains(body, "</html>") {
				t.Errorf("%s: page not complete", tc.path)
			}
			if strings.Contains(body, "<script>") || strings.Contains(body, "<img src=x") {
				t.Errorf("%s: data reached the page unescaped", tc.path)
			}
		}
		if tc.path == "/collections/incidents/items/14" && !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("item page does not show the escaped notes")
		}
		// A browser on / is sent to the map; the OGC landing page (?f=html) links it.
		if tc.path == "/" && strings.HasPrefix(tc.wantType, "text/html") && resp.Request.URL.Path != "/map/" {
			t.Errorf("a browser on / ended at %s, not the map", resp.Request.URL.Path)
		}
		if tc.path == "/?f=html" && !strings.Contains(body, `href="`+srv.URL+`/map/"`) {
			t.Errorf("landing page does not link the map")
		}
	}
}

func testsrvConfig() server.Config { return server.DefaultConfig() }
