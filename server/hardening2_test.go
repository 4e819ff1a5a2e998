package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
)

// TestOffsetOverflow: an offset near 2^63 was a 500 (offset+limit wrapped
// negative and the regions page sliced out of range); it is a 400 naming the
// bound, and the largest offset taken gives an empty page.
func TestOffsetOverflow(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	for _, path := range []string{
		"/collections/regions/items?offset=9223372036854775708",
		"/collections/incidents/items?offset=9223372036854775708",
		"/collections/regions/items?offset=9007199254740993",
	} {
		status, _, body := srv.Get(t, path)
		var e struct{ Code, Description string }
		json.Unmarshal(body, &e)
		if status != http.StatusBadRequest || e.Code == "" || !strings.Contains(e.Description, "9007199254740992") {
			t.Errorf("GET %s: %d %s; want 400 naming the largest offset", path, status, body)
		}
	}
	for _, path := range []string{"/collections/regions/items?offset=9007199254740992&limit=10000",
		"/collections/incidents/items?offset=9007199254740992&limit=10000"} {
		var fc struct {
			NumberMatched  int64 `json:"numberMatched"`
			NumberReturned int   `json:"numberReturned"`
			Features       []any `json:"features"`
			Links          []struct{ Rel string }
		}
		srv.GetJSON(t, path, http.StatusOK, &fc)
		if fc.NumberReturned != 0 || len(fc.Features) != 0 || fc.NumberMatched == 0 {
			t.Errorf("GET %s: matched %d returned %d; want an empty page of a non-empty collection", path, fc.NumberMatched, fc.NumberReturned)
		}
		for _, l := range fc.Links {
			if l.Rel == "next" {
				t.Errorf("GET %s: a next link past the end", path)
			}
		}
	}
}

// TestBBoxAntimeridian: bbox=170,-10,-170,10 is the 20° box across ±180
// (OGC API – Features 7.15.3), not a refusal: it holds the incidents at
// 175 and -175 and not the one at 0, in every order and in the count.
func TestBBoxAntimeridian(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	mk := func(id string, lon, lat float64) incident.Incident {
		return incident.Incident{EventID: id, EventDate: "2021-03-01", EventType: "Battles", TimePrecision: 1,
			GeoPrecision: 1, Lon: lon, Lat: lat}
	}
	if _, err := srv.Store.Upsert(context.Background(), []incident.Incident{
		mk("AM-E", 175, 5), mk("AM-W", -175, -5), mk("AM-EDGE", 180, 0), mk("AM-0", 0, 0), mk("AM-N", 175, 20),
	}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"bbox=170,-10,-170,10", "bbox=170,-10,-170,10&sortby=id",
		"bbox=170,-10,0,-170,10,0", "bbox=170,-10,-170,10&f=geojson"} {
		var fc struct {
			NumberMatched int64 `json:"numberMatched"`
			Features      []struct {
				Properties struct {
					EventID string `json:"event_id"`
				}
			}
		}
		srv.GetJSON(t, "/collections/incidents/items?"+q, http.StatusOK, &fc)
		var got []string
		for _, f := range fc.Features {
			got = append(got, f.Properties.EventID)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != "AM-E,AM-EDGE,AM-W" {
			t.Errorf("%s: got %v, want AM-E, AM-EDGE, AM-W", q, got)
		}
		if !strings.Contains(q, "f=geojson") && fc.NumberMatched != 3 {
			t.Errorf("%s: numberMatched %d, want 3", q, fc.NumberMatched)
		}
	}
	// Regions (Iraq) are nowhere near the antimeridian; a box across it
	// selects none, one around Iraq across it too ("30,…,-170" spans 200°).
	var regs struct {
		NumberMatched int64 `json:"numberMatched"`
	}
	srv.GetJSON(t, "/collections/regions/items?bbox=170,-10,-170,10", http.StatusOK, &regs)
	if regs.NumberMatched != 0 {
		t.Errorf("regions across the antimeridian: %d, want 0", regs.NumberMatched)
	}
	srv.GetJSON(t, "/collections/regions/items?bbox=30,20,-170,40", http.StatusOK, &regs)
	if regs.NumberMatched != 18 {
		t.Errorf("regions in 30..180 ∪ -180..-170: %d, want 18", regs.NumberMatched)
	}
}
