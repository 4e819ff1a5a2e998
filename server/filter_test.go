package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

func TestCQL2FilterOnSeed(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	cases := []struct {
		filter, extra, want string
	}{
		{"fatalities >= 3", "", "2 5 12"},
		{"event_type = 'Riots' OR fatalities > 3", "", "1 2 12"},
		{"NOT (region = 'Anbar') AND event_date >= DATE('2021-01-01')", "", "7 9 11"},
		{"event_date BETWEEN '2020-01-01' AND '2020-12-31'", "", "2 3 4 5 6"},
		{"location LIKE 'Erbil%'", "", "4 7 9"},
		{"location LIKE 'erbil%'", "", ""}, // LIKE is case-sensitive
		{"location NOT LIKE '%Airbase'", "", "1 2 4 5 6 7 9 11 12"},
		{"sub_event_type IN ('Air/drone strike', 'Violent demonstration')", "", "1 2 9 10 12"},
		{"fatalities NOT IN (0)", "", "2 5 7 8 12"},
		{"fatalities BETWEEN 1 AND 4", "", "5 7 8 12"},
		{"S_INTERSECTS(geometry, BBOX(43.5, 35.9, 44.5, 36.5))", "", "4 7 9"},
		{"S_INTERSECTS(geometry, ENVELOPE(42, 33, 43, 34)) AND event_date > DATE('2021-03-03')", "", "10 13"},
		{"actor2 = 'US Embassy'", "", "6"},
		{"notes IS NULL", "", ""},
		{"actor2 IS NULL", "", "1"},
		{"actor2 IS NOT NULL AND id < 3", "", "2"},
		{"event_id IS NOT NULL AND id < 3", "", "1 2"},
		{"time_precision = 1 AND geo_precision <> 1", "", "2 4 5 7 12"},
		{"updated_at > TIMESTAMP('2000-01-01T00:00:00Z') AND id = 13", "", "13"},
		{"fatalities = 0", "region=Anbar&datetime=2021-01-01/..", "10 13"},
		{"fatalities = 0", "limit=2&offset=1", "3 4"},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			q := "filter=" + url.QueryEscape(tc.filter) + "&filter-lang=cql2-text"
			if tc.extra != "" {
				q += "&" + tc.extra
			}
			var fc featureCollection
			srv.GetJSON(t, "/collections/incidents/items?"+q, 200, &fc)
			if got := strings.Trim(fmt.Sprint(fc.ids()), "[]"); got != tc.want {
				t.Fatalf("ids %q; want %q", got, tc.want)
			}
		})
	}
}

func TestCQL2FilterErrorsAre400WithPosition(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	cases := map[string]string{
		"filter=colour%20%3D%20'red'":                   `at character 1: unknown property \"colour\"`,
		"filter=fatalities%20%3E":                       "at character 13",
		"filter=fatalities%20%3E%3D%20'many'":           "at character 15",
		"filter=location%20LIKE%20'x":                   "at character 15: quote ' is not closed",
		"filter=fatalities%3D1&filter-lang=cql-text":    "filter-lang",
		"filter=fatalities%3D1&filter-crs=EPSG:2154":    "EPSG/0/32639",
		"filter=A_CONTAINS(tags,('a'))":                 "array functions",
		"filter=" + strings.Repeat("(", 200) + "id%3D1": "nests deeper",
	}
	// A long filter (11,204 bytes: a governorate outline is up to ~10 KB of
	// WKT) fits in the request; a longer one (16,804 bytes, in a query body as
	// a URL cannot carry it) reaches the parser's limit.
	long := strings.Repeat("id%3D1+OR+", 1400) + "id%3D2"
	body, _ := json.Marshal(map[string]string{"filter": strings.Repeat("id=1 OR ", 2100) + "id=2"})
	resp, err := http.Post(srv.URL+"/collections/incidents/items", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(msg), "at most 16384 are accepted") {
		t.Fatalf("a 16,804-byte filter: %d %s; want 400 saying at most 16384", resp.StatusCode, msg)
	}
	var fc featureCollection
	srv.GetJSON(t, "/collections/incidents/items?filter="+long, 200, &fc)
	if got := fmt.Sprint(fc.ids()); got != "[1 2]" {
		t.Fatalf("long filter: ids %s; want [1 2]", got)
	}
	for q, want := range cases {
		t.Run(want, func(t *testing.T) {
			status, _, body := srv.Get(t, "/collections/incidents/items?"+q)
			var e struct{ Code, Description string }
			if status != 400 || json.Unmarshal(body, &e) != nil || e.Code != "InvalidParameterValue" {
				t.Fatalf("status %d body %s", status, body)
			}
			if !strings.Contains(string(body), want) {
				t.Fatalf("error %s does not say %q", body, want)
			}
		})
	}
}

func TestFullTextParameter(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	cases := []struct {
		query, want string
	}{
		{"q=Erbil", "4 7 9"},
		{"q=" + url.QueryEscape(`"Ain al-Asad"`), "3 8 10 13"},
		{"q=drone*", "2 9 10"},
		{"q=rockets&sortby=relevance", "5 6 13 8 7"},
		{"q=rockets&sortby=relevance&limit=2&offset=2", "13 8"},
		{"q=baghdad&sortby=relevance", "11 6 1 2"},
		{"q=rockets&sortby=id", "5 6 7 8 13"},
		{"q=rockets&region=Anbar", "8 13"},
		{"q=rockets&filter=" + url.QueryEscape("fatalities > 0"), "5 7 8"},
		{"q=base&bbox=42,33,43,34&datetime=2021-01-01/..", "8 10 13"},
		{"q=" + url.QueryEscape("NEAR(x y) OR col:z"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			var fc featureCollection
			srv.GetJSON(t, "/collections/incidents/items?"+tc.query, 200, &fc)
			if got := strings.Trim(fmt.Sprint(fc.ids()), "[]"); got != tc.want {
				t.Fatalf("ids %q; want %q", got, tc.want)
			}
			if n := int64(len(strings.Fields(tc.want))); !strings.Contains(tc.query, "limit") && fc.NumberMatched != n {
				t.Fatalf("numberMatched %d; want %d", fc.NumberMatched, n)
			}
		})
	}
	for q, want := range map[string]string{
		"q=%21%21%21":                     "no word",
		"q=":                              "no word",
		"sortby=relevance":                "needs a q",
		"q=x&sortby=fatal":                "sortby",
		"q=" + strings.Repeat("a%20", 20): "more than 16",
	} {
		status, _, body := srv.Get(t, "/collections/incidents/items?"+q)
		if status != 400 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %s; want 400 saying %q", q, status, body, want)
		}
	}
}
