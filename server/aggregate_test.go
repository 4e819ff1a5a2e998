package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/synth"
)

// aggregateDoc is the JSON of /collections/incidents/aggregate; groups keep
// their keys by name.
type aggregateDoc struct {
	GroupBy        []string         `json:"groupBy"`
	Groups         []map[string]any `json:"groups"`
	NumberMatched  int64            `json:"numberMatched"`
	Fatalities     int64            `json:"fatalities"`
	GroupsMatched  int              `json:"groupsMatched"`
	GroupsReturned int              `json:"groupsReturned"`
	TimeStamp      string           `json:"timeStamp"`
	Links          []link           `json:"links"`
}

func getAggregate(t *testing.T, srv *testsrv.Server, query string) aggregateDoc {
	t.Helper()
	var doc aggregateDoc
	srv.GetJSON(t, "/collections/incidents/aggregate?"+query, 200, &doc)
	if doc.GroupsReturned != len(doc.Groups) {
		t.Fatalf("aggregate?%s: groupsReturned %d, %d groups", query, doc.GroupsReturned, len(doc.Groups))
	}
	if _, err := time.Parse(time.RFC3339, doc.TimeStamp); err != nil {
		t.Fatalf("aggregate?%s: timeStamp %q", query, doc.TimeStamp)
	}
	return doc
}

// matched is numberMatched of the items for query.
func matched(t *testing.T, srv *testsrv.Server, query string) int64 {
	t.Helper()
	var fc struct {
		NumberMatched int64 `json:"numberMatched"`
	}
	srv.GetJSON(t, "/collections/incidents/items?limit=1&"+query, 200, &fc)
	return fc.NumberMatched
}

// groupFilter is the items query that selects exactly one group's incidents.
func groupFilter(t *testing.T, keys []string, g map[string]any) string {
	t.Helper()
	v := url.Values{}
	for _, k := range keys {
		s, ok := g[k].(string)
		if !ok {
			t.Fatalf("group %v: key %s is %T", g, k, g[k])
		}
		switch k {
		case "day", "week", "month", "year":
			start, err := time.Parse(time.DateOnly, s)
			if err != nil {
				t.Fatalf("group %v: %s %q is not a date", g, k, s)
			}
			end := map[string]time.Time{"day": start, "week": start.AddDate(0, 0, 6),
				"month": start.AddDate(0, 1, -1), "year": start.AddDate(1, 0, -1)}[k]
			v.Set("datetime", s+"/"+end.Format(time.DateOnly))
		case "event_type", "sub_event_type":
			// the list parameters take a comma-separated list; ACLED values hold no comma
			v.Set(k, s)
		default:
			v.Set(k, s) // property equality
		}
	}
	return v.Encode()
}

func TestAggregateSeed(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	doc := getAggregate(t, srv, "group_by=month,event_type")
	if strings.Join(doc.GroupBy, ",") != "month,event_type" || doc.NumberMatched != 13 || doc.Fatalities != 19 {
		t.Fatalf("groupBy %v, numberMatched %d, fatalities %d; want month,event_type, 13, 19", doc.GroupBy, doc.NumberMatched, doc.Fatalities)
	}
	// The seed's months, as the seed notes list them: 2019-12-31 a riot at
	// the US embassy; January 2020 three attacks (Ain al-Asad, the embassy, Taji …).
	first := doc.Groups[0]
	if first["month"] != "2019-12-01" || first["event_type"] != "Riots" || first["count"] != 1.0 {
		t.Errorf("first group %v, want month 2019-12-01, Riots, 1", first)
	}
	var sum, fat int64
	prev := ""
	for _, g := range doc.Groups {
		n, f := int64(g["count"].(float64)), int64(g["fatalities"].(float64))
		sum, fat = sum+n, fat+f
		if m := g["month"].(string); m < prev {
			t.Errorf("months out of order: %s after %s", m, prev)
		} else {
			prev = m
		}
		if direct := matched(t, srv, groupFilter(t, doc.GroupBy, g)); direct != n {
			t.Errorf("group %v: count %d, items count %d", g, n, direct)
		}
	}
	if sum != 13 || fat != 19 {
		t.Errorf("groups add up to %d incidents, %d killed; want 13, 19", sum, fat)
	}

	// A Saturday falls in the week of the Monday before it (ISO weeks).
	week := getAggregate(t, srv, "group_by=week&datetime=2021-05-08")
	if len(week.Groups) != 1 || week.Groups[0]["week"] != "2021-05-03" || int64(week.Groups[0]["count"].(float64)) != matched(t, srv, "datetime=2021-05-08") {
		t.Errorf("week of 2021-05-08: %v", week.Groups)
	}
	year := getAggregate(t, srv, "group_by=year")
	if len(year.Groups) != 3 || year.Groups[0]["year"] != "2019-01-01" || year.Groups[2]["year"] != "2021-01-01" {
		t.Errorf("years: %v", year.Groups)
	}

	// Filters are the items filters, parsed by the same parser.
	for _, q := range []string{"region=Anbar", "datetime=2021-01-01/2021-12-31", "region=IQ-KR", "bbox=43,32,45,34",
		"min_fatalities=1", "q=drone", "filter=" + url.QueryEscape("fatalities >= 3"), "event_type=Riots,Protests"} {
		d := getAggregate(t, srv, "group_by=region&"+q)
		var n int64
		for _, g := range d.Groups {
			n += int64(g["count"].(float64))
		}
		if want := matched(t, srv, q); n != want || d.NumberMatched != want {
			t.Errorf("%s: groups add up to %d, numberMatched %d; items match %d", q, n, d.NumberMatched, want)
		}
	}

	// limit keeps the non-time values with most incidents, biggest first.
	top := getAggregate(t, srv, "group_by=admin1&limit=2")
	if len(top.Groups) != 2 || top.GroupsMatched <= 2 || top.NumberMatched != 13 {
		t.Fatalf("limit=2: %d groups of %d, numberMatched %d", len(top.Groups), top.GroupsMatched, top.NumberMatched)
	}
	if top.Groups[0]["count"].(float64) < top.Groups[1]["count"].(float64) {
		t.Errorf("top groups not biggest first: %v", top.Groups)
	}
	all := getAggregate(t, srv, "group_by=admin1")
	for i := range top.Groups {
		if fmt.Sprint(top.Groups[i]) != fmt.Sprint(all.Groups[i]) {
			t.Errorf("limit=2 group %d is %v; the unlimited list has %v", i, top.Groups[i], all.Groups[i])
		}
	}
}

func TestAggregateCSV(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	doc := getAggregate(t, srv, "group_by=year,event_type")
	status, ctype, body := srv.Get(t, "/collections/incidents/aggregate?group_by=year,event_type&f=csv")
	if status != 200 || ctype != "text/csv; charset=utf-8" {
		t.Fatalf("csv: status %d, %s", status, ctype)
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v", err)
	}
	if strings.Join(rows[0], ",") != "year,event_type,count,fatalities" || len(rows) != len(doc.Groups)+1 {
		t.Fatalf("csv header %v, %d rows; want %d groups", rows[0], len(rows)-1, len(doc.Groups))
	}
	for i, g := range doc.Groups {
		want := []string{g["year"].(string), g["event_type"].(string),
			strconv.Itoa(int(g["count"].(float64))), strconv.Itoa(int(g["fatalities"].(float64)))}
		if strings.Join(rows[i+1], "|") != strings.Join(want, "|") {
			t.Errorf("csv row %d: %v, json %v", i+1, rows[i+1], want)
		}
	}
	var alt string
	for _, l := range doc.Links {
		if l.Rel == "alternate" && l.Type == "text/csv" {
			alt = l.Href
		}
	}
	if !strings.HasPrefix(alt, srv.URL+"/collections/incidents/aggregate?") || !strings.Contains(alt, "f=csv") {
		t.Errorf("csv alternate link %q", alt)
	}
}

func TestAggregateErrors(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	for _, tc := range []struct{ query, code string }{
		{"", "400"},
		{"group_by=", "400"},
		{"group_by=decade", "400"},
		{"group_by=month,month", "400"},
		{"group_by=day,month,year,event_type", "400"},
		{"group_by=month&limit=0", "400"},
		{"group_by=month&offset=2", "400"},
		{"group_by=month&colour=red", "400"},
		{"group_by=month&datetime=yesterday", "400"},
		{"group_by=month&f=xml", "406"},
	} {
		status, ctype, body := srv.Get(t, "/collections/incidents/aggregate?"+tc.query)
		var e struct{ Code, Description string }
		if strconv.Itoa(status) != tc.code || !strings.HasPrefix(ctype, "application/json") || json.Unmarshal(body, &e) != nil || e.Description == "" {
			t.Errorf("?%s: %d %s %s; want %s with a JSON error", tc.query, status, ctype, body, tc.code)
		}
	}
}

// TestAggregateSynthetic checks every group key on 3,000 synthetic incidents:
// each group's count equals the items API's count of its filter.
func TestAggregateSynthetic(t *testing.T) {
	st := testsrv.Open(t)
	var incs []incident.Incident
	for i := 1; i <= 3000; i++ {
		incs = append(incs, synth.Incident(14, i))
	}
	if _, err := st.Upsert(context.Background(), incs); err != nil {
		t.Fatal(err)
	}
	srv := testsrv.Start(t, st, nil)
	for _, q := range []string{"group_by=year,event_type", "group_by=sub_event_type", "group_by=admin1,year",
		"group_by=region", "group_by=actor1&limit=5", "group_by=actor2&limit=5",
		"group_by=month&datetime=2020-01-01/2020-12-31&event_type=Battles",
		"group_by=week&datetime=2021-03-01/2021-03-31", "group_by=day&datetime=2019-06-01/2019-06-10"} {
		doc := getAggregate(t, srv, q)
		if doc.NumberMatched == 0 || len(doc.Groups) == 0 {
			t.Fatalf("%s: nothing matched", q)
		}
		filters := url.Values{}
		pq, _ := url.ParseQuery(q)
		for k, v := range pq {
			if k != "group_by" && k != "limit" {
				filters[k] = v
			}
		}
		var sum int64
		for _, g := range doc.Groups {
			n := int64(g["count"].(float64))
			sum += n
			gv, _ := url.ParseQuery(groupFilter(t, doc.GroupBy, g))
			for k, v := range filters {
				if k == "datetime" && gv.Has("datetime") {
					// both apply: the bucket cut to the filter's dates
					b, f := strings.Split(gv.Get(k), "/"), strings.Split(v[0], "/")
					gv.Set(k, max(b[0], f[0])+"/"+min(b[1], f[1]))
					continue
				}
				gv[k] = v
			}
			gf := gv.Encode()
			if direct := matched(t, srv, gf); direct != n {
				t.Errorf("%s: group %v: count %d, items count %d (%s)", q, g, n, direct, gf)
			}
		}
		if want := matched(t, srv, filters.Encode()); doc.NumberMatched != want {
			t.Errorf("%s: numberMatched %d, items %d", q, doc.NumberMatched, want)
		}
		if doc.GroupsReturned == doc.GroupsMatched && sum != doc.NumberMatched {
			t.Errorf("%s: groups add up to %d, numberMatched %d", q, sum, doc.NumberMatched)
		}
	}
}

// TestAggregateOpenAPI: /api documents the aggregation with its own
// parameters and every items filter.
func TestAggregateOpenAPI(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Ref string `json:"$ref"`
			} `json:"parameters"`
			Responses map[string]struct {
				Content map[string]any `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Parameters map[string]struct {
				Name   string         `json:"name"`
				Schema map[string]any `json:"schema"`
			} `json:"parameters"`
		} `json:"components"`
	}
	srv.GetJSON(t, "/api?f=json", 200, &doc)
	get, ok := doc.Paths["/collections/incidents/aggregate"]["get"]
	if !ok {
		t.Fatal("/api has no GET /collections/incidents/aggregate")
	}
	names := map[string]map[string]any{}
	for _, p := range get.Parameters {
		c := doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
		names[c.Name] = c.Schema
	}
	for _, n := range []string{"group_by", "limit", "f", "bbox", "datetime", "event_type", "region", "q", "filter", "min_fatalities", "actor1"} {
		if _, ok := names[n]; !ok {
			t.Errorf("aggregate parameter %s not documented (have %v)", n, names)
		}
	}
	if _, ok := names["offset"]; ok {
		t.Error("aggregate documents offset, which it refuses")
	}
	if names["limit"]["default"] != 1000.0 {
		t.Errorf("aggregate limit schema %v, want default 1000", names["limit"])
	}
	if c := get.Responses["200"].Content; c["application/json"] == nil || c["text/csv"] == nil {
		t.Errorf("aggregate 200 media types %v", c)
	}
}
