package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/store"
)

func TestFullTextSearch(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	cases := []struct {
		q       string
		rank    bool
		want    []int64
		matched int64
	}{
		{"Erbil", false, []int64{4, 7, 9}, 3},
		{"erbil AIRPORT", false, []int64{4, 7, 9}, 3},
		{`"Ain al-Asad"`, false, []int64{3, 8, 10, 13}, 4},
		{"drone*", false, []int64{2, 9, 10}, 3},
		{"kataib", false, []int64{1, 12}, 2}, // actors
		{"Muhandis", false, []int64{2}, 1},   // notes
		{"KDRV", false, []int64{10, 11}, 2},  // source
		{`"rockets hit the base"`, false, []int64{5, 8, 13}, 3},
		// incident.Relevance: all in the notes, so the shortest text first.
		{"rockets", true, []int64{5, 6, 13, 8, 7}, 5},
		// In the place name and the notes (8 + 2: 11), then in the place
		// name alone (8), shortest text first (6: 205, 1: 227, 2: 253 characters).
		{"baghdad", true, []int64{11, 6, 1, 2}, 4},
		{"AND OR NOT NEAR", false, nil, 0},
		{"notes:base", false, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			fts, err := incident.ParseText(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			got, matched := ids(t, st, incident.Filter{Text: fts, ByRelevance: tc.rank})
			if !equal(got, tc.want) || matched != tc.matched {
				t.Fatalf("%s (%v): ids %v matched %d; want %v matched %d", tc.q, fts, got, matched, tc.want, tc.matched)
			}
		})
	}
	for _, bad := range []string{"", "   ", "!!! ???", `""`, "*"} {
		if q, err := store.FullTextQuery(bad); err == nil {
			t.Errorf("FullTextQuery(%q) = %q; want an error", bad, q)
		}
	}
}

func TestFullTextFollowsWrites(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	ctx := context.Background()
	search := func(q string) []int64 {
		fts, err := incident.ParseText(q)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := ids(t, st, incident.Filter{Text: fts})
		return got
	}
	inc, _ := st.Incident(ctx, 9)
	inc.Notes = "A quadcopter carrying explosives hit a hangar."
	if _, err := st.Upsert(ctx, []incident.Incident{inc}); err != nil {
		t.Fatal(err)
	}
	if got := search("quadcopter"); !equal(got, []int64{9}) {
		t.Fatalf("after update, quadcopter finds %v; want [9]", got)
	}
	if got := search("explosive-laden"); len(got) != 0 {
		t.Fatalf("after update, the old notes still find %v", got)
	}
	if err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM incidents WHERE id = 9")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := search("quadcopter"); len(got) != 0 {
		t.Fatalf("after delete, quadcopter finds %v", got)
	}
}

// FuzzFullTextQuery runs whatever FullTextQuery makes of arbitrary text as a
// real FTS5 MATCH: it must never be an FTS5 syntax error.
func FuzzFullTextQuery(f *testing.F) {
	st := testsrv.OpenSeeded(f)
	for _, s := range []string{"Erbil", `"Ain al-Asad"`, "drone*", "a OR b", "NEAR(a b)", "col:x", `"`, `a"b`, "^x", "-x", "(x", "x*y", "\x00", "é*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		terms, err := incident.ParseText(s)
		if err != nil {
			return
		}
		q := store.FTSQuery(terms)
		cur, err := st.Incidents(context.Background(), incident.Filter{Text: terms, ByRelevance: true}, true)
		if err != nil {
			t.Fatalf("q %q → %q: %v", s, q, err)
		}
		defer cur.Close()
		for cur.Next() {
		}
		if err := cur.Err(); err != nil {
			t.Fatalf("q %q → %q: %v", s, q, err)
		}
	})
}

// TestTextInABoxEitherWay: a page of text in a bbox (spatial order) tests
// the text against the set of every match, built once, or by a lookup of
// each candidate row in the text index (textPlan chooses by how many match):
// both give every page, at any offset, as the whole ordered result does
// (read without a limit: each range tests its own set).
func TestTextInABoxEitherWay(t *testing.T) {
	st := testsrv.OpenSynthetic(t, 20000)
	ctx := context.Background()
	drone, err := incident.ParseText("drone")
	if err != nil {
		t.Fatal(err)
	}
	box := orb.Bound{Min: orb.Point{38.8, 29.0}, Max: orb.Point{48.6, 37.4}}
	f := incident.Filter{Text: drone, BBox: &box}
	want, n := ids(t, st, f)
	if len(want) < 500 || n != int64(len(want)) {
		t.Fatalf("%d drone incidents in the box (counted %d): too few to page", len(want), n)
	}
	for _, probe := range []bool{false, true} {
		st.FixTextPlan(probe)
		for _, off := range []int{0, 1, 100, 250, len(want) - 40} {
			for _, deferred := range []bool{false, true} {
				g := f
				g.Limit, g.Offset, g.MayDeferCount = 100, off, deferred
				got, _ := ids(t, st, g)
				if end := min(off+100, len(want)); !equal(got, want[off:end]) {
					t.Errorf("probe %v, offset %d: %d ids %v…, want %d %v…", probe, off, len(got), got[:min(3, len(got))], end-off, want[off:off+3])
				}
			}
		}
		page, _, err := st.QueryPlan(ctx, incident.Filter{Text: drone, BBox: &box, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		sets, probes := 0, 0
		for _, p := range page {
			if strings.Contains(p, "VIRTUAL TABLE INDEX 0:M") {
				sets++
			}
			if strings.Contains(p, "VIRTUAL TABLE INDEX 0:=M") {
				probes++
			}
		}
		if probe && (sets != 0 || probes == 0) || !probe && sets != 1 {
			t.Errorf("probe %v: the page reads the text index %d times whole and looks ids up in it in %d places:\n%s",
				probe, sets, probes, strings.Join(page, "\n"))
		}
	}
}
