package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"incidentmap/incident"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
	"incidentmap/store"
)

// planRows is how many synthetic incidents the plan tests load: enough that
// statistics sampled from the first 1,000 index entries of a column say
// "about 1,000 rows per value" when the truth is several times that, which
// is what made SQLite sort every Battles row for a page of 100.
const planRows = 60000

// sortsLarge reports the plan step that sorts rows in a temporary B-tree for
// the ORDER BY, if any.
func sortsRows(plan []string) string {
	for _, p := range plan {
		if strings.Contains(p, "USE TEMP B-TREE FOR") && strings.Contains(p, "ORDER BY") {
			return p
		}
	}
	return ""
}

// TestBulkImportStatisticsPickTheIDWalk is the plan of issue 16: after a bulk
// import, a page of a common event type with a fatality bound must walk ids
// and stop after 100 matches, not read every row of the type through its
// index and sort them.
func TestBulkImportStatisticsPickTheIDWalk(t *testing.T) {
	st := testsrv.OpenSynthetic(t, planRows)
	path := st.Path()
	ctx := context.Background()

	// The statistics are the whole table's: sqlite_stat1 says how many rows
	// an event type holds on average, which must be the true average.
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var stat string
	var types int64
	if err := raw.QueryRowContext(ctx, "SELECT stat FROM sqlite_stat1 WHERE idx = 'incidents_type_stats'").Scan(&stat); err != nil {
		t.Fatalf("statistics of incidents_type_stats: %v", err)
	}
	if err := raw.QueryRowContext(ctx, "SELECT count(DISTINCT event_type) FROM incidents").Scan(&types); err != nil {
		t.Fatal(err)
	}
	var total, perType int64
	if _, err := fmt.Sscan(stat, &total, &perType); err != nil {
		t.Fatalf("sqlite_stat1 %q: %v", stat, err)
	}
	if want := planRows / types; total != planRows || perType < want*9/10 || perType > want*11/10 {
		t.Fatalf("sqlite_stat1 of incidents_type_stats is %q: %d rows, %d per event type; want %d and about %d", stat, total, perType, planRows, want)
	}

	three := 3
	f := incident.Filter{EventTypes: []string{"Battles"}, MinFatalities: &three, Limit: 100}
	page, _, err := st.QueryPlan(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(page, "\n")
	if s := sortsRows(page); s != "" || strings.Contains(joined, "incidents_type_stats") {
		t.Fatalf("event_type=Battles AND fatalities>=3 ORDER BY id LIMIT 100 reads the type index and sorts:\n%s", joined)
	}
}

// TestRegionsMatchAnyCaseThroughTheIndex: a Regions filter names regions,
// governorates or ISO codes in any letter case, and is answered from the
// admin1 index (exact stored values) instead of lower() over every row.
func TestRegionsMatchAnyCaseThroughTheIndex(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	ctx := context.Background()
	for _, c := range []struct {
		regions []string
		want    int64
	}{
		{[]string{"kurdistan region"}, 3}, {[]string{"ERBIL"}, 3}, {[]string{"IQ-AN"}, 5},
		{[]string{"anbar", "Erbil"}, 8}, {[]string{"Kurdistan Region", "erbil"}, 3},
		{[]string{"Baghdad", "IQ-AN", "Kurdistan Region"}, 13}, {[]string{"Atlantis"}, 0},
	} {
		f := incident.Filter{Regions: c.regions}
		n, err := st.Count(ctx, f)
		if err != nil || n != c.want {
			t.Errorf("regions %q: %d, %v; want %d", c.regions, n, err, c.want)
		}
		_, count, err := st.QueryPlan(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if plan := strings.Join(count, "\n"); c.want > 0 && !strings.Contains(plan, "incidents_admin1_stats") {
			t.Errorf("regions %q: the count does not use the admin1 index:\n%s", c.regions, plan)
		}
	}
}

// TestRegionPairsSeek: resolving regions= walks the stored (admin1, region)
// pairs with two seeks a pair; a statement whose plan ranges over the
// governorate's entries (as a row-value (admin1, region) > (?, ?) did: every
// Anbar entry read to pass the pair, 2.8 s a request at ten million) fails.
func TestRegionPairSeeks(t *testing.T) {
	st := testsrv.OpenSynthetic(t, 5000)
	db, err := sql.Open("sqlite3", "file:"+st.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := []string{"(admin1=? AND region>?)", "(admin1>?)"}
	for i, q := range store.RegionPairSeeks {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+q, "Anbar", "Anbar")
		if i == 1 {
			rows, err = db.Query("EXPLAIN QUERY PLAN "+q, "Anbar")
		}
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) != 1 || !strings.HasSuffix(plan[0], want[i]) {
			t.Errorf("%s:\n  plan %q, want one search ending %s", q, plan, want[i])
		}
	}
}
