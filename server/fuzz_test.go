package server_test

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"testing"

	"incidentmap/internal/testsrv"
	"incidentmap/server"
)

// FuzzItemsQuery sends arbitrary query strings through the real parameter
// parser and handlers: the answer is always JSON, and never a server fault.
func FuzzItemsQuery(f *testing.F) {
	for _, q := range []string{"", "limit=5&offset=2", "bbox=43,35,45,37", "datetime=2021-01-01/..", "limit=-1",
		"filter=fatalities%3E1", "q=rocket*", "region=IQ-AN", "foo=bar", "limit=1&limit=2", "bbox=1,2,3", "f=html",
		"event_type=Riots,Battles", "filter=S_INTERSECTS(geom,BBOX(40,30,50,40))", "sortby=relevance&q=drone"} {
		f.Add(q)
	}
	cfg := server.DefaultConfig()
	cfg.RateLimit, cfg.WriteRateLimit = 0, 0
	app, err := server.New(cfg, testsrv.OpenSeeded(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		if _, err := url.ParseQuery(rawQuery); err != nil {
			return // not a query string a client library would send
		}
		req := httptest.NewRequest("GET", "/collections/incidents/items", nil)
		req.URL.RawQuery = rawQuery
		req.Header.Set("Accept", "application/geo+json")
		resp, err := app.Test(req, 10000)
		if err != nil {
			t.Fatalf("%q: %v", rawQuery, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("%q: status %d: %s", rawQuery, resp.StatusCode, body)
		}
		if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" && !json.Valid(body) {
			t.Fatalf("%q: status %d, body is not JSON: %.200s", rawQuery, resp.StatusCode, body)
		}
	})
}
