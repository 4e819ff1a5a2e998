package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/server"
	"incidentmap/synth"
)

// gdalSynthN is how many generated incidents join the seed for the
// queryables test: enough that every queryable has many values and aliases
// (admin1 vs region, ISO codes, lists) would match thousands of rows.
const gdalSynthN = 3000

// TestGDALWhereEqualsFilterOnEveryQueryable drives GDAL's -where on every
// queryable property. GDAL turns prop='v' into the parameter prop=v and
// trusts it to mean equality (Part 3 queryables-query-parameters), so each
// answer must hold exactly the ids CQL2 filter=prop='v' gives, on the seed
// and generated incidents. The values include the ones that used to match
// wrong rows: a governorate and an ISO code as region, a list as event_type,
// and letter case.
func TestGDALWhereEqualsFilterOnEveryQueryable(t *testing.T) {
	incs := make([]incident.Incident, gdalSynthN)
	for i := range incs {
		incs[i] = synth.Incident(13, i+1)
		incs[i].ID = 0
	}
	data := testsrv.Data{Key: fmt.Sprintf("seed+synth13-%d", gdalSynthN), Load: func(ctx context.Context, st server.Store) error {
		if err := testsrv.Seed.Load(ctx, st); err != nil {
			return err
		}
		return testsrv.Upsert(ctx, st, incs)
	}}
	// The ids GDAL read per engine and -where: both engines must agree.
	read := map[string]map[string][]string{}
	testsrv.ForEngines(t, data, nil, func(t *testing.T, srv *testsrv.Server) {
		read[srv.Engine] = map[string][]string{}
		gdalWhereEquals(t, srv, incs[7], read[srv.Engine])
	})
	if len(read) == 2 {
		for where, got := range read["postgis"] {
			if want := read["sqlite"][where]; !slices.Equal(got, want) {
				t.Errorf("-where %s: PostGIS gives %d features, SQLite %d; first %v and %v", where, len(got), len(want), head(got), head(want))
			}
		}
	}
}

// gdalWhereEquals is TestGDALWhereEqualsFilterOnEveryQueryable on one
// server, whose generated incidents include s; it records the ids GDAL read
// per -where in read.
func gdalWhereEquals(t *testing.T, srv *testsrv.Server, s incident.Incident, read map[string][]string) {
	// A proxy records the item queries GDAL sends, to show that the
	// equality reached the server as a parameter and was not applied by
	// GDAL on the client.
	target, _ := url.Parse(srv.URL)
	var mu sync.Mutex
	var sent []url.Values
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/collections/incidents/items" {
			mu.Lock()
			sent = append(sent, r.URL.Query())
			mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	// s is a generated incident: its values match many rows.
	cases := []struct {
		prop  string
		value string // as OGR SQL literal text (strings unquoted here)
		num   bool
	}{
		{"event_id", s.EventID, false},
		{"event_id", "SEED-IRQ-004", false},
		{"event_date", s.EventDate, false},
		{"time_precision", "2", true},
		{"event_type", "Battles", false},
		{"event_type", "Battles,Riots", false},
		{"event_type", "battles", false},
		{"sub_event_type", s.SubEventType, false},
		{"sub_event_type", "Air/drone strike,Violent demonstration", false},
		{"actor1", s.Actor1, false},
		{"actor2", s.Actor2, false},
		{"actor2", "US Embassy", false},
		{"admin1", "Erbil", false},
		{"admin1", "erbil", false},
		{"admin2", s.Admin2, false},
		{"location", s.Location, false},
		{"location", "near " + s.Admin1, false},
		{"region", "Kurdistan Region", false},
		{"region", "Erbil", false},
		{"region", "iq-an", false},
		{"region", "IQ-AN", false},
		{"region", "Anbar", false},
		{"geo_precision", "3", true},
		{"fatalities", "2", true},
		{"fatalities", "0", true},
		{"source", "synthetic", false},
		{"source", "Synthetic", false},
		{"source_url", s.SourceURL, false},
		{"notes", s.Notes, false},
		{"tags", "synthetic", false},
	}
	for _, tc := range cases {
		lit := tc.value
		if !tc.num {
			lit = "'" + strings.ReplaceAll(tc.value, "'", "''") + "'"
		}
		where := tc.prop + " = " + lit
		t.Run(where, func(t *testing.T) {
			want := filterIDs(t, srv, where)
			mu.Lock()
			sent = nil
			mu.Unlock()
			out := gdal(t, "ogrinfo", "-ro", "-al", "-q", "-oo", "PAGE_SIZE=10000", "-where", where,
				"OAPIF:"+proxy.URL+"/collections/incidents")
			got := strings.Fields(featureIDs(out))
			sortIDs(got)
			read[where] = got
			if !slices.Equal(got, want) {
				t.Fatalf("GDAL -where gave %d features, filter= %d; first GDAL %v, first filter %v",
					len(got), len(want), head(got), head(want))
			}
			mu.Lock()
			defer mu.Unlock()
			asked := false
			for _, q := range sent {
				if q.Get(tc.prop) == tc.value {
					asked = true
				}
			}
			if !asked && tc.prop != "event_date" { // GDAL sends a date as datetime=
				t.Errorf("GDAL never sent %s=%s; it sent %v", tc.prop, tc.value, sent)
			}
		})
	}
	// The aliases and lists that used to answer the equality parameters are
	// gone from them: each of these is 0 rows, as CQL2 says.
	for where, want := range map[string]int{"region = 'Erbil'": 0, "region = 'iq-an'": 0, "event_type = 'Battles,Riots'": 0} {
		if got := len(filterIDs(t, srv, where)); got != want {
			t.Errorf("filter=%s: %d; want %d", where, got, want)
		}
	}
}

// filterIDs are the ids, in id order, that filter=where selects, read through
// every next link.
func filterIDs(t *testing.T, srv *testsrv.Server, where string) []string {
	t.Helper()
	var ids []string
	for _, id := range srv.AllIDs(t, "/collections/incidents/items?limit=10000&sortby=id&filter="+url.QueryEscape(where)) {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	sortIDs(ids)
	return ids
}

// sortIDs sorts decimal ids by value.
func sortIDs(ids []string) {
	slices.SortFunc(ids, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
}

func head(ids []string) string {
	if len(ids) > 5 {
		return fmt.Sprint(ids[:5], "…")
	}
	return fmt.Sprint(ids)
}
