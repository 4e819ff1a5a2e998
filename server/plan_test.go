package server_test

import (
	"context"
	"fmt"
	"incidentmap/incident"
	"math"
	"net/url"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
	"incidentmap/server"
	"incidentmap/store"
)

// planRows is how many synthetic incidents the plan guard loads: enough for
// SQLite's choices to be those of a large database (a million behaves the
// same; what matters is that sorting every match of a common value costs far
// more than the page), few enough to load in seconds.
const planRows = 60000

// planPage is the page size the guard asks for: the items default.
const planPage = 100

// planShape is one items query the guard checks: the parameters as a client
// sends them. Add shapes here as parameters and CQL2 forms are added.
type planShape struct {
	name string
	vals url.Values
	// unindexed says why no index narrows this shape (a column without one,
	// a LIKE with a leading %): its page walks ids, reading about page /
	// selectivity rows whatever the table's size, which the guard allows.
	unindexed string
	// sorts says why no index serves this shape's sortby: its page sorts
	// every match (or every row of a large group of the first key) before
	// the first row streams out, which the guard allows for these alone.
	sorts string
}

// planShapes are every items parameter alone, the common CQL2 shapes, and
// the combinations the map page and GIS clients make, with values taken from
// one stored incident (ex) so that every shape matches something.
func planShapes(ex map[string]string) []planShape {
	v := func(kv ...string) url.Values {
		out := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	year := ex["event_date"][:4]
	yearRange := year + "-01-01/" + year + "-12-31"
	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	shapes := []planShape{
		{"no filter", v(), "", ""},
		{"bbox small", v("bbox", "44.30,33.25,44.45,33.40"), "", ""},
		{"bbox country", v("bbox", "38.8,29.0,48.6,37.4"), "", ""},
		{"bbox sortby=id", v("bbox", "44.30,33.25,44.45,33.40", "sortby", "id"), "", ""},
		{"datetime day", v("datetime", ex["event_date"]), "", ""},
		{"datetime year", v("datetime", yearRange), "", ""},
		{"datetime open end", v("datetime", year+"-06-01/.."), "", ""},
		{"datetime open start", v("datetime", "../"+year+"-06-01"), "", ""},
		{"min_fatalities", v("min_fatalities", "3"), "", ""},
		{"min_fatalities rare", v("min_fatalities", "40"), "no index leads with fatalities", ""},
		{"max_fatalities", v("max_fatalities", "0"), "", ""},
		{"q", v("q", "drone"), "", ""},
		{"q rare", v("q", "Tuz Khurmatu"), "", ""},
		{"q relevance", v("q", "drone", "sortby", "relevance"), "", ""},
		{"sortby=id", v("sortby", "id"), "", ""},
		{"offset deep", v("offset", "5000"), "", ""},
	}
	// Every queryable that is a parameter, alone, with the example's value.
	unindexed := map[string]string{"admin2": "no index on admin2", "location": "no index on location",
		"sub_event_type": "no index on sub_event_type", "actor1": "no index on actor1", "actor2": "no index on actor2"}
	for _, name := range []string{"event_type", "sub_event_type", "region", "admin1", "admin2", "actor1", "actor2",
		"location", "event_id", "source", "tags", "fatalities", "time_precision", "geo_precision", "event_date", "id"} {
		shapes = append(shapes, planShape{name, v(name, ex[name]), unindexed[name], ""})
	}
	// Any-of parameters (issue 13's contract), when the parser has them.
	anyOf := []planShape{
		{"event_types", v("event_types", ex["event_type"]+",Riots"), "", ""},
		{"sub_event_types", v("sub_event_types", ex["sub_event_type"]+",Arrests"), unindexed["sub_event_type"], ""},
		{"regions", v("regions", ex["admin1"]+",IQ-AN"), "", ""},
		{"actors", v("actors", ex["actor1"]), unindexed["actor1"], ""},
	}
	for _, s := range anyOf {
		if _, err := server.ParseFilter(s.vals); err == nil || !strings.Contains(err.Error(), "unknown parameter") {
			shapes = append(shapes, s)
		}
	}
	// CQL2 text, with why a shape has no index to narrow it.
	cqls := [][2]string{
		{"fatalities >= 3 AND event_type = 'Battles'", ""},
		{"event_type = 'Battles'", ""},
		{"event_type IN ('Battles', 'Riots')", ""},
		{"event_type <> 'Protests'", ""},
		{"NOT (event_type = 'Protests')", ""},
		{"fatalities > 10", "no index leads with fatalities"},
		{"fatalities BETWEEN 1 AND 5", ""},
		{"event_date >= DATE('" + year + "-01-01') AND event_date <= DATE('" + year + "-12-31')", ""},
		{"event_date BETWEEN DATE('" + year + "-01-01') AND DATE('" + year + "-03-31') AND fatalities >= 1", ""},
		{"admin1 = " + lit(ex["admin1"]) + " AND event_date >= DATE('" + year + "-01-01')", ""},
		{"actor1 = " + lit(ex["actor1"]) + " OR actor2 = " + lit(ex["actor1"]), "no index on actor1 or actor2"},
		{"actor1 LIKE 'Military%'", "no index on actor1"},
		{"location LIKE '%" + strings.ReplaceAll(ex["location"][len(ex["location"])-4:], "'", "''") + "%'", "LIKE with a leading %"},
		{"event_type = 'Battles' OR fatalities > 10", ""},
		{"S_INTERSECTS(geometry, BBOX(44.30, 33.25, 44.45, 33.40))", ""},
		{"S_INTERSECTS(geometry, BBOX(38.8, 29.0, 48.6, 37.4)) AND event_type = 'Battles'", ""},
		{"sub_event_type = " + lit(ex["sub_event_type"]) + " AND fatalities >= 1", "no index on sub_event_type"},
	}
	for _, c := range cqls {
		shapes = append(shapes, planShape{"filter " + c[0], v("filter", c[0]), c[1], ""})
	}
	// Combinations the map page and clients make.
	combos := [][]string{ // a trailing odd entry says why no index narrows it
		{"event_type", ex["event_type"], "min_fatalities", "3"},
		{"event_type", "Battles", "min_fatalities", "3"},
		{"region", ex["admin1"], "datetime", yearRange},
		{"region", "Anbar", "datetime", yearRange},
		{"event_type", ex["event_type"], "datetime", yearRange},
		{"event_type", ex["event_type"], "region", ex["admin1"]},
		{"event_type", ex["event_type"], "region", ex["admin1"], "datetime", yearRange, "min_fatalities", "1"},
		{"bbox", "44.30,33.25,44.45,33.40", "datetime", yearRange},
		{"bbox", "38.8,29.0,48.6,37.4", "event_type", "Battles", "min_fatalities", "3"},
		{"q", "drone", "datetime", yearRange},
		{"q", "drone", "event_type", "Explosions/Remote violence"},
		{"q", "drone", "bbox", "38.8,29.0,48.6,37.4"},
		{"sub_event_type", ex["sub_event_type"], "datetime", yearRange},
		{"actor1", ex["actor1"], "datetime", yearRange},
		{"admin2", ex["admin2"], "min_fatalities", "1", "no index on admin2"},
		{"datetime", yearRange, "min_fatalities", "3"},
		{"datetime", yearRange, "filter", "event_type = 'Battles'"},
	}
	// sortby on every sortable, both directions, alone and after the
	// filters the map page and clients combine it with.
	// Keys served in order: an index holds the key with the id after it
	// (event_id is unique), or holds the key first so that only the rows of
	// one value are sorted by id (event_date: a day's incidents). The others
	// say why they sort: an index per text column would slow every import
	// and write for orders few ask for.
	sortReason := map[string]string{
		"time_precision": "no index leads with time_precision (3 values)",
		"geo_precision":  "no index leads with geo_precision (3 values)",
		"sub_event_type": "no index leads with sub_event_type", "admin2": "no index leads with admin2",
		"location": "no index leads with location", "source": "no index leads with source",
		"source_url": "no index leads with source_url", "tags": "no index leads with tags",
		"event_type": "incidents_type_stats holds the date after the type, not the id: each type's rows are sorted",
		"region":     "incidents_region_stats holds the date after the region, not the id: each region's rows are sorted",
		"admin1":     "incidents_admin1_stats holds the region after admin1, not the id: each governorate's rows are sorted",
		"actor1":     "incidents_actor1 holds fatalities after the actor, not the id: each actor's rows are sorted",
		"actor2":     "incidents_actor2 holds fatalities after the actor, not the id: each actor's rows are sorted",
	}
	for _, k := range []string{"event_id", "event_date", "time_precision", "event_type", "sub_event_type", "actor1", "actor2",
		"admin1", "admin2", "location", "region", "geo_precision", "fatalities", "source", "source_url", "tags", "id", "updated_at"} {
		for _, key := range []string{k, "-" + k} {
			shapes = append(shapes, planShape{name: "sortby=" + key, vals: v("sortby", key), sorts: sortReason[k]})
		}
	}
	for _, c := range [][]string{
		{"sortby", "-fatalities", "event_type", "Battles"},
		{"sortby", "fatalities", "event_type", "Battles"},
		{"sortby", "-fatalities", "datetime", yearRange},
		{"sortby", "-fatalities", "bbox", "38.8,29.0,48.6,37.4"},
		{"sortby", "-fatalities", "region", "Anbar", "datetime", yearRange},
		{"sortby", "-event_date", "event_type", "Battles"},
		{"sortby", "-event_date", "region", "Anbar"},
		{"sortby", "-event_date", "bbox", "38.8,29.0,48.6,37.4"},
		{"sortby", "event_date", "datetime", yearRange},
		{"sortby", "-updated_at", "datetime", yearRange},
		{"sortby", "updated_at", "updated_since", "2000-01-01T00:00:00Z"},
		{"sortby", "-fatalities,event_date", "no index holds fatalities then the date (one per pair of keys is not kept): its matches are sorted"},
	} {
		why := ""
		if len(c)%2 == 1 {
			why, c = c[len(c)-1], c[:len(c)-1]
		}
		shapes = append(shapes, planShape{name: strings.Join(c, "="), vals: v(c...), sorts: why})
	}
	for _, c := range combos {
		var names []string
		for i := 0; i+1 < len(c); i += 2 {
			names = append(names, c[i])
		}
		why := ""
		if len(c)%2 == 1 {
			why = c[len(c)-1]
		}
		shapes = append(shapes, planShape{strings.Join(names, "+"), v(c...), why, ""})
	}
	return shapes
}

// TestNoPlanSortsALargeResultForASmallPage is issue 16's guard: for every
// items parameter and the common CQL2 shapes, alone and combined, the page of
// 100 that SQLite will run (EXPLAIN QUERY PLAN, no timing) must neither sort
// many more rows than the page needs nor walk the table far to fill it. A
// page's cost should follow what it returns, not what the database holds:
// reading m matches through an index and sorting them, or walking ids until
// the page is full (about page × rows / m rows), must each stay under
// 2·√(4 × page × rows), the most the cheaper of the two can need.
func TestNoPlanSortsALargeResultForASmallPage(t *testing.T) {
	st := testsrv.OpenSynthetic(t, planRows)
	ctx := context.Background()
	// The example: a Battles row with 3 or more killed, so that combinations
	// with the common filters match.
	three := 3
	cur, err := st.Incidents(ctx, incident.Filter{EventTypes: []string{"Battles"}, MinFatalities: &three, Limit: 1}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !cur.Next() {
		t.Fatal("no Battles incident with 3 killed")
	}
	inc := *cur.Incident()
	cur.Close()
	ex := map[string]string{
		"event_type": inc.EventType, "sub_event_type": inc.SubEventType, "region": inc.Region,
		"admin1": inc.Admin1, "admin2": inc.Admin2, "actor1": inc.Actor1, "actor2": inc.Actor2,
		"location": inc.Location, "event_id": inc.EventID, "source": inc.Source, "tags": inc.Tags,
		"fatalities": fmt.Sprint(inc.Fatalities), "time_precision": fmt.Sprint(inc.TimePrecision),
		"geo_precision": fmt.Sprint(inc.GeoPrecision), "event_date": inc.EventDate, "id": fmt.Sprint(inc.ID),
	}
	bound := 2 * math.Sqrt(4*planPage*planRows)
	groups := largestGroups(t, st)
	for _, s := range planShapes(ex) {
		f, err := server.ParseFilter(s.vals)
		if err != nil {
			t.Errorf("%s (%s): %v", s.name, s.vals.Encode(), err)
			continue
		}
		f.Limit = planPage
		matched, err := st.Count(ctx, f)
		if err != nil {
			t.Errorf("%s: count: %v", s.name, err)
			continue
		}
		// Each shape twice: planned from its count, and as when the count is
		// left to the background (MayDeferCount on a large table: a short
		// walk of ids decides).
		for _, deferred := range []bool{false, true} {
			f.MayDeferCount = deferred
			name := s.name
			if deferred {
				name += " (count deferred)"
			}
			page, count, err := st.QueryPlan(ctx, f)
			if err != nil {
				t.Errorf("%s: plan: %v", name, err)
				continue
			}
			plan := strings.Join(page, "\n    ")
			t.Logf("%s: %d matched\n    %s\n  count:\n    %s", name, matched, plan, strings.Join(count, "\n    "))
			if matched == 0 {
				t.Errorf("%s (%s) matches nothing: the shape tests no plan", name, s.vals.Encode())
				break
			}
			if f.ByRelevance {
				break // best matches first: every match is ranked, by definition
			}
			if sets := strings.Count(plan, "VIRTUAL TABLE INDEX 0:M"); sets > 1 {
				// Each arm of a spatial page testing its rows against its
				// own set of every text match (16 sets of 700,000 ids for
				// q=drone in a bbox at ten million).
				t.Errorf("%s (%s): the page reads every text match %d times:\n    %s", name, s.vals.Encode(), sets, plan)
			}
			sorted := matched
			if step := sortStep(page); (strings.Contains(step, "LAST TERM") || strings.Contains(step, "RIGHT PART")) && len(f.Sort) > 0 {
				// An index gives the first key's order; only the rows of
				// each of its values are sorted (by the id), at most the
				// largest group of the whole table.
				sorted = groups[f.Sort[0].Field]
			}
			if step := sortStep(page); step != "" && float64(sorted) > bound {
				if s.sorts != "" {
					t.Logf("%s: sorts %d rows for a page, allowed: %s", name, sorted, s.sorts)
				} else {
					t.Errorf("%s (%s): the page sorts %d rows for a page of %d (more than %.0f):\n    %s",
						name, s.vals.Encode(), sorted, planPage, bound, plan)
				}
			}
			walk := float64(planPage+f.Offset) * planRows / float64(matched)
			if tableWalk(page) && walk > bound && s.unindexed == "" {
				t.Errorf("%s (%s): the page walks the table for %d matches, about %.0f rows for a page of %d (more than %.0f):\n    %s",
					name, s.vals.Encode(), matched, walk, planPage, bound, plan)
			}
		}
	}
}

// largestGroups is, for each sortable property, how many incidents share
// its most common value: the most rows a page sorted by it can sort when an
// index gives the order of the values and only ties are sorted.
func largestGroups(t *testing.T, st *store.SQLite) map[string]int64 {
	t.Helper()
	cur, err := st.Incidents(context.Background(), incident.Filter{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	counts := map[string]map[string]int64{}
	for cur.Next() {
		inc := cur.Incident()
		for k, val := range map[string]any{"event_id": inc.EventID, "event_date": inc.EventDate,
			"time_precision": inc.TimePrecision, "event_type": inc.EventType, "sub_event_type": inc.SubEventType,
			"actor1": inc.Actor1, "actor2": inc.Actor2, "admin1": inc.Admin1, "admin2": inc.Admin2,
			"location": inc.Location, "region": inc.Region, "geo_precision": inc.GeoPrecision,
			"fatalities": inc.Fatalities, "source": inc.Source, "source_url": inc.SourceURL, "tags": inc.Tags,
			"id": inc.ID, "updated_at": inc.UpdatedAt} {
			if counts[k] == nil {
				counts[k] = map[string]int64{}
			}
			counts[k][fmt.Sprint(val)]++
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for k, m := range counts {
		for _, n := range m {
			out[k] = max(out[k], n)
		}
	}
	return out
}

// sortStep is the plan step that sorts rows for the ORDER BY, if any.
func sortStep(plan []string) string {
	for _, p := range plan {
		if strings.Contains(p, "USE TEMP B-TREE FOR") && strings.Contains(p, "ORDER BY") {
			return p
		}
	}
	return ""
}

// tableWalk says whether the plan reads the incidents table in id order,
// testing each row (SCAN without an index).
func tableWalk(plan []string) bool {
	for _, p := range plan {
		p = strings.TrimSpace(p)
		// A scan of the table in id order, or of an index in its order
		// (sortby's walk of the fatalities or updated_at index): both read
		// about page / selectivity rows.
		if p == "SCAN i" || strings.HasPrefix(p, "SCAN i ") && !strings.Contains(p, "COVERING") {
			return true
		}
	}
	return false
}
