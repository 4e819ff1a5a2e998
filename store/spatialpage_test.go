package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/store"
	"incidentmap/synth"
)

// spatialIDs reads the ids of one page of f, counted first as the server
// asks (a count can choose the id walk).
func spatialIDs(t *testing.T, st *store.SQLite, f incident.Filter) []int64 {
	t.Helper()
	cur, err := st.Incidents(context.Background(), f, true)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	var ids []int64
	for cur.Next() {
		ids = append(ids, cur.Incident().ID)
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestPagesResumeWhereTheLastEnded: pages in spatial order (bbox) and in id
// order, read one after the other (each starting after the key where the
// last one ended), jumping forward and back (starting from the deepest
// known position before the offset), and again after a write moved the
// order, hold exactly the rows of the same slice of the whole order read at
// once. Rows that tie on the point, the date and the fatalities (ordered by
// id alone), a box across the antimeridian, and filters the cell index does
// not hold (event type) are among them.
func TestPagesResumeWhereTheLastEnded(t *testing.T) {
	st := testsrv.OpenSynthetic(t, 12000)
	ctx := context.Background()
	// Ties: 60 incidents on one point of Baghdad, in three dates and two
	// fatality counts; and a few each side of the antimeridian.
	var extra []incident.Incident
	for i := range 60 {
		inc := synth.Incident(99, i+1)
		inc.EventID = fmt.Sprintf("TIE-%d", i)
		inc.Lon, inc.Lat = 44.361234, 33.312345
		inc.EventDate = fmt.Sprintf("2021-03-0%d", 1+i%3)
		inc.Fatalities = i % 2
		inc.Admin1 = ""
		extra = append(extra, inc)
	}
	for i := range 40 {
		inc := synth.Incident(98, i+1)
		inc.EventID = fmt.Sprintf("AM-%d", i)
		inc.Lon, inc.Lat = 179.5+float64(i%10)/25, float64(i%7)-3
		if i%2 == 1 {
			inc.Lon = -inc.Lon
		}
		inc.Admin1 = ""
		extra = append(extra, inc)
	}
	if _, err := st.Upsert(ctx, extra); err != nil {
		t.Fatal(err)
	}
	baghdad := orb.Bound{Min: orb.Point{44.2, 33.2}, Max: orb.Point{44.5, 33.45}}
	across := orb.Bound{Min: orb.Point{179.6, -5}, Max: orb.Point{-179.6, 5}}
	two, forty := 2, 40
	filters := map[string]incident.Filter{
		"bbox":              {BBox: &baghdad},
		"bbox+datetime":     {BBox: &baghdad, Interval: mustInterval(t, "2018-01-01/2021-12-31"), MinFatalities: &two},
		"bbox+event_type":   {BBox: &baghdad, EventTypes: []string{"Battles", "Protests"}},
		"antimeridian":      {BBox: &across},
		"bbox+ties (small)": {BBox: &orb.Bound{Min: orb.Point{44.36, 33.31}, Max: orb.Point{44.362, 33.313}}},
		"id order":          {},
		"id order+bbox":     {BBox: &baghdad, ByID: true},
		"id order+type":     {EventTypes: []string{"Battles"}},
		"id order+rare":     {MinFatalities: &forty},
		"id order+datetime": {Interval: mustInterval(t, "2019-01-01/2019-12-31")},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	k := 0
	for name, f := range filters {
		k++
		t.Run(name, func(t *testing.T) {
			check := func(stage string) {
				all := spatialIDs(t, st, f)
				if len(all) < 20 {
					t.Fatalf("%s: %d matches; the test needs more", stage, len(all))
				}
				page := max(3, len(all)/25)
				// One after the other, reading one row past the page as the
				// server does.
				var got []int64
				for off := 0; off < len(all)+page; off += page {
					g := f
					g.Offset, g.Limit = off, page+1
					ids := spatialIDs(t, st, g)
					if len(ids) > page {
						ids = ids[:page]
					}
					got = append(got, ids...)
				}
				if !slices.Equal(got, all) {
					t.Fatalf("%s: pages of %d one after the other hold %d ids, the whole order %d; first difference at %d",
						stage, page, len(got), len(all), firstDiff(got, all))
				}
				known, err := st.PositionsOf(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if resumes := f.BBox != nil && !f.ByID || f.EventTypes == nil && f.MinFatalities == nil && f.Interval.IsZero() && f.BBox == nil; resumes && len(known) == 0 {
					t.Fatalf("%s: no page left a position for the next", stage)
				}
				// Jumps, forward and back, of any size and offset.
				for range 40 {
					off, lim := rng.IntN(len(all)+5), 1+rng.IntN(2*page)
					g := f
					g.Offset, g.Limit = off, lim
					want := all[min(off, len(all)):min(off+lim, len(all))]
					if ids := spatialIDs(t, st, g); !slices.Equal(ids, want) {
						t.Fatalf("%s: offset %d limit %d: %v, want %v", stage, off, lim, ids, want)
					}
				}
			}
			check("first")
			// A write moves rows in the order (a new row at the tie point,
			// one moved out, one deleted): positions of the old data
			// version must not serve the new one.
			inc := synth.Incident(97, 1)
			inc.EventID, inc.Lon, inc.Lat, inc.EventDate, inc.Admin1 = "TIE-NEW-"+name, 44.361234, 33.312345, "2021-03-01", ""
			moved := extra[k]
			moved.Lon, moved.Lat = 44.0+float64(k)/100, 33.0
			if _, err := st.Upsert(ctx, []incident.Incident{inc, moved}); err != nil {
				t.Fatal(err)
			}
			check("after a write")
		})
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestSpatialPagePlans: a bbox page merges the cell index's range scans in
// their order and sorts nothing, from the first row or resumed after a
// key; when the index holds every condition (bbox, dates, fatalities) the
// keys come from the index alone (the offset skipped there) and only the
// page's rows are read from the table, by id.
func TestSpatialPagePlans(t *testing.T) {
	st := testsrv.OpenSynthetic(t, 5000)
	ctx := context.Background()
	country := orb.Bound{Min: orb.Point{38.8, 29.0}, Max: orb.Point{48.6, 37.4}}
	three := 3
	for _, c := range []struct {
		name    string
		f       incident.Filter
		covered bool
	}{
		{"bbox", incident.Filter{BBox: &country}, true},
		{"bbox+datetime+fatalities", incident.Filter{BBox: &country, Interval: mustInterval(t, "2019-01-01/2021-12-31"), MinFatalities: &three}, true},
		{"bbox+event_type", incident.Filter{BBox: &country, EventTypes: []string{"Battles"}}, false},
	} {
		for _, resumed := range []bool{false, true} {
			f := c.f
			f.Limit, f.Offset = 100, 50
			plan, err := st.PagePlan(ctx, f, resumed)
			if err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(plan, "\n")
			name := fmt.Sprintf("%s (resumed %v)", c.name, resumed)
			if strings.Contains(joined, "TEMP B-TREE") || !strings.Contains(joined, "MERGE (UNION ALL)") {
				t.Errorf("%s: the page does not merge the ranges in order without sorting:\n%s", name, joined)
			}
			searches := 0
			for _, p := range plan {
				p = strings.TrimSpace(p)
				switch {
				case strings.HasPrefix(p, "SEARCH i USING COVERING INDEX incidents_cell (cell>? AND cell<?)"):
					searches++
				case strings.HasPrefix(p, "SEARCH i USING INDEX incidents_cell (cell>? AND cell<?)") && !c.covered:
					searches++
				case p == "SEARCH i USING INTEGER PRIMARY KEY (rowid=?)" && c.covered:
				case strings.HasPrefix(p, "SEARCH") || strings.HasPrefix(p, "SCAN i"):
					t.Errorf("%s: unexpected step %q:\n%s", name, p, joined)
				}
			}
			if searches < 2 {
				t.Errorf("%s: %d range scans of the cell index:\n%s", name, searches, joined)
			}
		}
	}
}

// TestIDPagePlansResumed: a page of the whole table in id order resumed
// after an id reads the table from that id on (a range of rowids) and sorts
// nothing.
func TestIDPagePlansResumed(t *testing.T) {
	st := testsrv.OpenSynthetic(t, 5000)
	ctx := context.Background()
	for _, f := range []incident.Filter{{}} {
		f.Limit, f.Offset = 100, 50
		plan, err := st.PagePlan(ctx, f, true)
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(plan, "\n")
		if strings.Contains(joined, "TEMP B-TREE FOR ORDER BY") || !strings.Contains(joined, "rowid>?") {
			t.Errorf("%+v: the resumed page does not read a range of ids in order:\n%s", f, joined)
		}
	}
}
