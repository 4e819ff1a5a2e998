package postgis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"incidentmap/cql2"
	"incidentmap/crs"
	"incidentmap/importer"
	"incidentmap/incident"
	"incidentmap/internal/pgtest"
	"incidentmap/internal/testsrv"
	"incidentmap/postgis"
	"incidentmap/seed"
	"incidentmap/server"
	"incidentmap/synth"
)

// engine is one store under the conformance table.
type engine struct {
	name string
	st   server.Store
}

// openPostGIS opens the PostGIS engine on a new database of the test cluster.
func openPostGIS(t testing.TB) *postgis.PostGIS {
	t.Helper()
	return openPostGISAt(t, pgtest.DB(t))
}

// openPostGISAt opens the PostGIS engine on the database at url, as one
// more server on it would.
func openPostGISAt(t testing.TB, url string) *postgis.PostGIS {
	t.Helper()
	p, err := postgis.Open(context.Background(), url, postgis.WithRegions(testsrv.Regions(t)))
	if err != nil {
		t.Fatalf("open postgis: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// seedPostGIS upserts the seed incidents into p.
func seedPostGIS(t testing.TB, p *postgis.PostGIS) {
	t.Helper()
	incs, err := importer.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Upsert(context.Background(), incs); err != nil {
		t.Fatal(err)
	}
}

// seeded opens both engines with the seed and the same synthetic incidents,
// loaded by the same import.
func seeded(t *testing.T, synthetic int) []engine {
	t.Helper()
	ctx := context.Background()
	incs, err := importer.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	if err != nil {
		t.Fatal(err)
	}
	load := func(st interface {
		Import(context.Context, bool, func(incident.ImportWriter) error) (incident.ImportCounts, error)
	}) {
		t.Helper()
		if _, err := st.Import(ctx, false, func(w incident.ImportWriter) error {
			for i := range incs {
				inc := incs[i]
				if err := w.Put(&inc, 0); err != nil {
					return err
				}
			}
			if err := synth.Batches(7, synthetic, 1000, func(b []incident.Incident) error {
				for i := range b {
					if err := w.Put(&b[i], 0); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return err
			}
			for i := range foreign {
				inc := foreign[i]
				if err := w.Put(&inc, 0); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("load: %v", err)
		}
	}
	sq := testsrv.Open(t)
	load(sq)
	pg := openPostGIS(t)
	load(pg)
	return []engine{{"sqlite", sq}, {"postgis", pg}}
}

// foreign are incidents whose text needs more than ASCII (CASEI, ACCENTI,
// LIKE of non-ASCII text), on known points (S_EQUALS) and a known date.
var foreign = func() []incident.Incident {
	mk := func(n int, loc, actor, notes string, lon, lat float64) incident.Incident {
		return incident.Incident{EventID: fmt.Sprintf("FOREIGN-%d", n), EventDate: "2021-03-15", TimePrecision: 1,
			EventType: "Protests", SubEventType: "Peaceful protest", Actor1: actor, Admin1: "Baghdad",
			Location: loc, GeoPrecision: 1, Fatalities: n, Source: "conformance", Notes: notes, Lon: lon, Lat: lat}
	}
	return []incident.Incident{
		mk(1, "Straße 1", "Müller Group", "Demonstrators at the STRASSE", 44.4, 33.3),
		mk(2, "Mósul ǅ Bridge", "Ali Ḥasan", "Crowd near the İstanbul café", 43.13, 36.34),
		mk(3, "مَسْجِد Square", "ﬁre brigade", "النَّاس gathered; 100% peaceful_ok", 44.36100, 33.31200),
		mk(4, "MOSUL bridge", "ALI HASAN", `back\slash and 50%`, 43.12, 36.33),
		// Words FTS5's unicode61 folds differently from PostgreSQL's
		// unaccent (ß, æ, ø kept; ç, ğ folded), Arabic harakat (unicode61
		// splits at them), non-ASCII punctuation and digits.
		mk(5, "Ærø ferry", "Øresund Group", "Strasse closed near Çağ market", 44.41, 33.31),
		mk(6, "مُحَمَّد Street", "Aero Group", "oresund—Baghdad «road» closed، ١٢٣ killed", 44.42, 33.32),
		mk(7, "محمد Square", "ÆRØ Group", "Cag and STRASSE², Ⅳ", 44.43, 33.33),
	}
}()

// page is what a query gives: the ids in order and the count.
type page struct {
	IDs     []int64
	Matched int64
}

func run(t *testing.T, st server.Store, f incident.Filter) (page, error) {
	t.Helper()
	cur, err := st.Incidents(context.Background(), f, true)
	if err != nil {
		return page{}, err
	}
	defer cur.Close()
	p := page{Matched: cur.Matched()}
	for cur.Next() {
		p.IDs = append(p.IDs, cur.Incident().ID)
	}
	return p, cur.Err()
}

func ptr[T any](v T) *T { return &v }

func mustCQL(t *testing.T, s string) cql2.Expr {
	t.Helper()
	e, err := cql2.Parse(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return e
}

// mustCQLIn parses s with its geometry literals in the CRS uri.
func mustCQLIn(t *testing.T, s, uri string) cql2.Expr {
	t.Helper()
	e, err := cql2.ParseCRS(s, uri)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return e
}

// projected is the WKT polygon of a ring of lon/lat points projected to c.
func projected(c *crs.CRS, ring [][2]float64) string {
	parts := make([]string, len(ring))
	for i, p := range ring {
		x, y := c.Forward(p[0], p[1])
		parts[i] = fmt.Sprintf("%.3f %.3f", x, y)
	}
	return "POLYGON((" + strings.Join(parts, ", ") + "))"
}

// projectedBox is BBOX(…) of a lon/lat box's corners projected to c.
func projectedBox(c *crs.CRS, minLon, minLat, maxLon, maxLat float64) string {
	x0, y0 := c.Forward(minLon, minLat)
	x1, y1 := c.Forward(maxLon, maxLat)
	return fmt.Sprintf("BBOX(%.3f, %.3f, %.3f, %.3f)", x0, y0, x1, y1)
}

func terms(t *testing.T, q string) []incident.Term {
	t.Helper()
	ts, err := incident.ParseText(q)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestConformanceQueries runs one table of filters against both engines:
// the same ids in the same order and the same numberMatched.
func TestConformanceQueries(t *testing.T) {
	engines := seeded(t, 3000)
	box := orb.Bound{Min: orb.Point{43.0, 33.0}, Max: orb.Point{44.8, 36.5}}
	cases := []struct {
		name string
		f    incident.Filter
	}{
		{"all", incident.Filter{}},
		{"first page", incident.Filter{Limit: 100}},
		{"third page", incident.Filter{Limit: 100, Offset: 200}},
		{"last page, partly past the end", incident.Filter{Limit: 100, Offset: 2950}},
		{"page past the end", incident.Filter{Limit: 100, Offset: 5000}},
		{"offset, no limit", incident.Filter{Offset: 2990}},
		{"bbox spatial order", incident.Filter{BBox: &box, Limit: 500}},
		{"bbox page 2", incident.Filter{BBox: &box, Limit: 100, Offset: 100}},
		{"bbox by id", incident.Filter{BBox: &box, ByID: true, Limit: 300}},
		{"antimeridian box", incident.Filter{BBox: &orb.Bound{Min: orb.Point{170, -10}, Max: orb.Point{-170, 10}}}},
		{"datetime", incident.Filter{Interval: mustInterval(t, "2021-01-01/2021-06-30")}},
		{"open start", incident.Filter{Interval: mustInterval(t, "../2020-12-31"), Limit: 50}},
		{"event types", incident.Filter{EventTypes: []string{"Battles", "Riots"}, Limit: 400}},
		{"sub event types", incident.Filter{SubEventTypes: []string{"Air/drone strike"}}},
		{"region name", incident.Filter{Regions: []string{"anbar"}}},
		{"region iso", incident.Filter{Regions: []string{"IQ-BG", "Kurdistan Region"}}},
		{"actors", incident.Filter{Actors: []string{"Kataib Hezbollah"}}},
		{"fatalities range", incident.Filter{MinFatalities: ptr(2), MaxFatalities: ptr(5)}},
		{"equals", incident.Filter{Equals: []incident.Equal{{Field: "geo_precision", Value: int64(2)}, {Field: "time_precision", Value: int64(1)}}}},
		{"equals text", incident.Filter{Equals: []incident.Equal{{Field: "source", Value: "synthetic"}}, Limit: 10}},
		{"ids", incident.Filter{IDs: []int64{3, 1, 2999, 77777}}},
		{"no ids", incident.Filter{IDs: []int64{}}},
		{"q word", incident.Filter{Text: terms(t, "Erbil")}},
		{"q accents and case", incident.Filter{Text: terms(t, "erbil AIRPORT")}},
		{"q phrase", incident.Filter{Text: terms(t, `"rockets hit the base"`)}},
		{"q prefix", incident.Filter{Text: terms(t, "drone*")}},
		{"q operators are words", incident.Filter{Text: terms(t, "AND OR NOT NEAR")}},
		// The same words on both engines (FTS5's unicode61), whatever
		// PostgreSQL's unaccent would fold.
		{"q sharp s", incident.Filter{Text: terms(t, "Straße")}},
		{"q ss", incident.Filter{Text: terms(t, "strasse")}},
		{"q ae o slash", incident.Filter{Text: terms(t, "Ærø")}},
		{"q aero", incident.Filter{Text: terms(t, "aero")}},
		{"q o slash", incident.Filter{Text: terms(t, "øresund")}},
		{"q oresund", incident.Filter{Text: terms(t, "Oresund")}},
		{"q cedilla breve", incident.Filter{Text: terms(t, "Çağ")}},
		{"q cag", incident.Filter{Text: terms(t, "cag")}},
		{"q harakat", incident.Filter{Text: terms(t, "مُحَمَّد")}},
		{"q arabic", incident.Filter{Text: terms(t, "محمد")}},
		{"q arabic prefix", incident.Filter{Text: terms(t, "مح*")}},
		{"q punctuation", incident.Filter{Text: terms(t, `"oresund baghdad road"`)}},
		{"q arabic digits", incident.Filter{Text: terms(t, "١٢٣")}},
		{"q superscript", incident.Filter{Text: terms(t, "strasse²")}},
		{"q relevance folded", incident.Filter{Text: terms(t, "ærø group"), ByRelevance: true}},
		// sortby=relevance: incident.Relevance on both engines, ties by
		// text length and id; spellings (Term.Any) match as the term.
		{"relevance word", incident.Filter{Text: terms(t, "baghdad"), ByRelevance: true}},
		{"relevance page", incident.Filter{Text: terms(t, "drone"), ByRelevance: true, Limit: 50, Offset: 25}},
		{"relevance terms", incident.Filter{Text: terms(t, `airport "rockets hit" erb*`), ByRelevance: true}},
		{"relevance prefix accents", incident.Filter{Text: terms(t, "mosu* ALI"), ByRelevance: true}},
		{"relevance spellings", incident.Filter{Text: []incident.Term{{Text: "mosul", Any: []string{"mósul", "kirkuk"}}}, ByRelevance: true, Limit: 100}},
		{"relevance with filters", incident.Filter{Text: terms(t, "killed"), ByRelevance: true, EventTypes: []string{"Battles"}, BBox: &box}},
		{"q spellings", incident.Filter{Text: []incident.Term{{Text: "erbil", Any: []string{"hawler", "arbil"}}, {Text: "air", Prefix: true, Any: []string{"drone"}}}}},
		{"updated since", incident.Filter{UpdatedSince: "2000-01-01T00:00:00Z", Limit: 10}},
		{"cql2 compare", incident.Filter{Expr: mustCQL(t, "fatalities >= 3 AND event_type <> 'Riots'")}},
		{"cql2 like", incident.Filter{Expr: mustCQL(t, "location LIKE 'Ba%'")}},
		{"cql2 in between", incident.Filter{Expr: mustCQL(t, "admin1 IN ('Anbar', 'Erbil') AND fatalities BETWEEN 1 AND 4")}},
		{"cql2 or not", incident.Filter{Expr: mustCQL(t, "NOT (region = 'Baghdad') OR geo_precision = 3"), Limit: 300}},
		{"cql2 is null", incident.Filter{Expr: mustCQL(t, "actor2 IS NULL")}},
		{"cql2 dates", incident.Filter{Expr: mustCQL(t, "event_date >= DATE('2021-03-01') AND event_date < DATE('2021-04-01')")}},
		{"cql2 s_intersects", incident.Filter{Expr: mustCQL(t, "S_INTERSECTS(geometry, BBOX(42, 33, 43, 34))"), Limit: 200}},
		{"cql2 polygon", incident.Filter{Expr: mustCQL(t, "S_WITHIN(geometry, POLYGON((43 33, 45 33, 45 35, 43 35, 43 33)))"), ByID: true}},
		{"sort", incident.Filter{Sort: []incident.SortKey{{Field: "fatalities", Desc: true}, {Field: "location"}}, Limit: 200}},
		{"sort text desc", incident.Filter{Sort: []incident.SortKey{{Field: "event_date", Desc: true}}, BBox: &box, Limit: 100, Offset: 50}},
		// Temporal functions: dates as dates, dates against instants
		// (seconds), intervals with open ends, date-times.
		{"t_after date", incident.Filter{Expr: mustCQL(t, "T_AFTER(event_date, DATE('2021-06-01'))")}},
		{"t_before timestamp", incident.Filter{Expr: mustCQL(t, "T_BEFORE(event_date, TIMESTAMP('2020-03-01T12:00:00Z'))")}},
		{"t_during interval", incident.Filter{Expr: mustCQL(t, "T_DURING(event_date, INTERVAL('2021-01-01', '2021-01-31'))")}},
		{"t_intersects instants", incident.Filter{Expr: mustCQL(t, "T_INTERSECTS(event_date, INTERVAL('2020-12-30T23:00:00Z', '2021-01-02T01:00:00Z'))")}},
		{"t_equals", incident.Filter{Expr: mustCQL(t, "T_EQUALS(event_date, DATE('2021-03-15'))")}},
		{"t_contains open", incident.Filter{Expr: mustCQL(t, "T_CONTAINS(INTERVAL('2021-11-01', '..'), event_date)")}},
		{"t_disjoint", incident.Filter{Expr: mustCQL(t, "T_DISJOINT(event_date, INTERVAL('..', '2021-10-01'))")}},
		{"t_overlaps property interval", incident.Filter{Expr: mustCQL(t, "T_OVERLAPS(INTERVAL(event_date, '2021-02-10'), INTERVAL('2021-02-01', '2021-02-20'))")}},
		{"t_starts t_finishes", incident.Filter{Expr: mustCQL(t, "T_STARTS(INTERVAL(event_date, '2021-12-31'), INTERVAL('2021-03-15', '..')) OR T_FINISHES(INTERVAL('2019-01-01', event_date), INTERVAL('2018-01-01', '2020-01-05'))")}},
		{"t_meets metby", incident.Filter{Expr: mustCQL(t, "T_MEETS(INTERVAL('2021-01-01', event_date), INTERVAL('2021-01-05', '2021-02-01')) OR T_METBY(event_date, DATE('2021-02-01'))")}},
		{"t_after updated_at", incident.Filter{Expr: mustCQL(t, "T_AFTER(updated_at, TIMESTAMP('2000-01-01T00:00:00.5Z'))"), Limit: 20}},
		{"updated_at before", incident.Filter{Expr: mustCQL(t, "updated_at < TIMESTAMP('2000-01-01T00:00:00Z')")}},
		// Arithmetic as SQLite computes it: / of reals, DIV and % of
		// integers, by zero NULL, ^ as math.Pow.
		{"arith mul add", incident.Filter{Expr: mustCQL(t, "fatalities * 2 + 1 > 7")}},
		{"arith divide", incident.Filter{Expr: mustCQL(t, "fatalities / 4 >= 1.5")}},
		{"arith div mod", incident.Filter{Expr: mustCQL(t, "fatalities DIV 3 = 1 AND fatalities % 3 = 1")}},
		{"arith real mod", incident.Filter{Expr: mustCQL(t, "fatalities % 2.5 = 1")}},
		{"arith power", incident.Filter{Expr: mustCQL(t, "fatalities ^ 2 >= 16 AND 2 ^ fatalities < 100")}},
		{"arith by zero", incident.Filter{Expr: mustCQL(t, "fatalities / 0 = 1 OR fatalities DIV 0 = 0 OR fatalities % 0 = 0")}},
		{"arith properties", incident.Filter{Expr: mustCQL(t, "geo_precision - time_precision = 1 AND -fatalities < -2")}},
		// Text: byte order, CASEI (full case folding), ACCENTI (marks of
		// every script), LIKE escapes and non-ASCII patterns.
		{"text order", incident.Filter{Expr: mustCQL(t, "location < 'B' AND location >= 'A'")}},
		{"text range", incident.Filter{Expr: mustCQL(t, "location >= 'M' AND location <= 'Mz' AND location <> 'Mosul'")}},
		{"casei", incident.Filter{Expr: mustCQL(t, "CASEI(location) LIKE CASEI('STRASSE%') OR CASEI(notes) LIKE '%istanbul%' OR CASEI(actor1) = CASEI('FIRE BRIGADE')")}},
		{"accenti", incident.Filter{Expr: mustCQL(t, "ACCENTI(location) LIKE ACCENTI('Mosul%') OR ACCENTI(actor1) = 'Ali Hasan' OR ACCENTI(location) = ACCENTI('مسجد Square')")}},
		{"casei accenti", incident.Filter{Expr: mustCQL(t, "CASEI(ACCENTI(location)) LIKE CASEI(ACCENTI('mosul%'))")}},
		{"casei ascii", incident.Filter{Expr: mustCQL(t, "CASEI(admin1) = 'anbar'"), Limit: 30}},
		{"like escapes", incident.Filter{Expr: mustCQL(t, `notes LIKE '%100\% peaceful\_ok' OR notes LIKE '%\\%'`)}},
		{"like one char", incident.Filter{Expr: mustCQL(t, "location LIKE '_aghdad%' AND location NOT LIKE '%a_'")}},
		{"like property", incident.Filter{Expr: mustCQL(t, "location LIKE admin2 OR admin1 NOT LIKE region"), Limit: 40}},
		{"in numbers not in", incident.Filter{Expr: mustCQL(t, "fatalities IN (1, 3, 5) AND event_type NOT IN ('Riots', 'Battles')")}},
		{"not between is not null", incident.Filter{Expr: mustCQL(t, "fatalities NOT BETWEEN 1 AND 10 AND actor2 IS NOT NULL")}},
		{"booleans", incident.Filter{Expr: mustCQL(t, "TRUE AND NOT FALSE AND fatalities > 6")}},
		// Spatial functions over other geometries and in other CRSs.
		{"s_disjoint", incident.Filter{Expr: mustCQL(t, "S_DISJOINT(geometry, POLYGON((43 33, 45 33, 45 35, 43 35, 43 33)))"), Limit: 300}},
		{"s_contains converse", incident.Filter{Expr: mustCQL(t, "S_CONTAINS(POLYGON((43 33, 45 33, 44 35, 43 33)), geometry)")}},
		{"s_intersects multipolygon", incident.Filter{Expr: mustCQL(t, "S_INTERSECTS(geometry, MULTIPOLYGON(((42 32, 43 32, 43 33, 42 33, 42 32)), ((44 35, 46 35, 46 37, 44 37, 44 35), (44.5 35.5, 45 35.5, 45 36, 44.5 36, 44.5 35.5))))")}},
		{"s_equals point", incident.Filter{Expr: mustCQL(t, "S_EQUALS(geometry, POINT(44.361 33.312)) OR S_INTERSECTS(geometry, MULTIPOINT((43.13 36.34), (1 1)))")}},
		{"s_touches s_crosses", incident.Filter{Expr: mustCQL(t, "S_TOUCHES(geometry, LINESTRING(44.3 33.3, 44.4 33.3, 44.4 33.4)) OR S_CROSSES(geometry, LINESTRING(40 30, 50 40)) OR S_WITHIN(geometry, LINESTRING(43.11 36.32, 43.13 36.34))")}},
		{"s_intersects collection", incident.Filter{Expr: mustCQL(t, "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(44.4 33.3), POLYGON((45 35, 46 35, 46 36, 45 35))))")}},
		{"filter-crs utm 38N", incident.Filter{Expr: mustCQLIn(t, "S_WITHIN(geometry, "+projected(crs.UTM38N, [][2]float64{{43.2, 33.1}, {44.9, 33.0}, {45.1, 35.2}, {43.4, 35.4}, {43.2, 33.1}})+")", crs.UTM38N.URI)}},
		{"filter-crs 3857 bbox", incident.Filter{Expr: mustCQLIn(t, "S_INTERSECTS(geometry, "+projectedBox(crs.EPSG3857, 42.0, 32.5, 44.5, 34.0)+") AND NOT S_INTERSECTS(geometry, BBOX(4786738, 3895303, 4842396, 3961945))", crs.EPSG3857.URI)}},
		{"filter-crs 4326", incident.Filter{Expr: mustCQLIn(t, "S_INTERSECTS(geometry, POLYGON((33 43, 33 45, 35 45, 35 43, 33 43)))", crs.EPSG4326.URI)}},
		{"filter-crs utm 37N disjoint", incident.Filter{Expr: mustCQLIn(t, "S_DISJOINT(geometry, "+projected(crs.UTM37N, [][2]float64{{40, 31}, {42.5, 31}, {42.5, 34}, {40, 34}, {40, 31}})+")", crs.UTM37N.URI), Limit: 100}},
		{"everything", incident.Filter{BBox: &box, Interval: mustInterval(t, "2020-01-01/2021-12-31"),
			EventTypes: []string{"Battles", "Explosions/Remote violence"}, MinFatalities: ptr(1),
			Expr: mustCQL(t, "geo_precision <= 2"), Limit: 50, Offset: 10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := run(t, engines[0].st, tc.f)
			if err != nil {
				t.Fatalf("sqlite: %v", err)
			}
			got, err := run(t, engines[1].st, tc.f)
			if err != nil {
				t.Fatalf("postgis: %v", err)
			}
			if testing.Verbose() {
				t.Logf("matched %d", want.Matched)
			}
			if got.Matched != want.Matched || !slices.Equal(got.IDs, want.IDs) {
				t.Fatalf("postgis matched %d ids %v\nsqlite  matched %d ids %v", got.Matched, head(got.IDs), want.Matched, head(want.IDs))
			}
		})
	}
	// A property no engine knows is the caller's fault on both.
	for _, e := range engines {
		_, err := run(t, e.st, incident.Filter{Equals: []incident.Equal{{Field: "nope", Value: "x"}}})
		if !errors.Is(err, incident.ErrInvalid) {
			t.Errorf("%s: unknown property: %v; want ErrInvalid", e.name, err)
		}
	}
}

func head(ids []int64) []int64 {
	if len(ids) > 20 {
		return ids[:20]
	}
	return ids
}

func mustInterval(t *testing.T, s string) incident.Interval {
	t.Helper()
	iv, err := incident.ParseInterval(s)
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

// TestConformanceStore compares the rest of the read side: incidents by id,
// extent, regions, tiles and aggregations.
func TestConformanceStore(t *testing.T) {
	ctx := context.Background()
	engines := seeded(t, 3000)
	same := func(t *testing.T, what string, get func(st server.Store) (any, error)) {
		t.Helper()
		var want any
		for i, e := range engines {
			got, err := get(e.st)
			if err != nil {
				t.Fatalf("%s %s: %v", e.name, what, err)
			}
			if i == 0 {
				want = got
				continue
			}
			wj, _ := json.Marshal(want)
			gj, _ := json.Marshal(got)
			// An empty list is an empty list, whether nil or not.
			wj, gj = []byte(strings.ReplaceAll(string(wj), "[]", "null")), []byte(strings.ReplaceAll(string(gj), "[]", "null"))
			if string(wj) != string(gj) {
				t.Errorf("%s: postgis\n%s\nsqlite\n%s", what, trim(gj), trim(wj))
			}
		}
	}
	for _, id := range []int64{1, 7, 13, 500, 3013} {
		same(t, fmt.Sprint("incident ", id), func(st server.Store) (any, error) {
			inc, err := st.Incident(ctx, id)
			inc.UpdatedAt = "" // set by each engine at its own write
			return inc, err
		})
	}
	same(t, "missing incident", func(st server.Store) (any, error) {
		_, err := st.Incident(ctx, 99999)
		return errors.Is(err, incident.ErrNotFound), nil
	})
	same(t, "extent", func(st server.Store) (any, error) { return st.Extent(ctx) })
	same(t, "regions", func(st server.Store) (any, error) {
		return st.Regions(ctx, incident.RegionQuery{Incidents: incident.Filter{EventTypes: []string{"Battles"}}})
	})
	same(t, "region", func(st server.Store) (any, error) { return st.Region(ctx, "iq-an", incident.Filter{}) })
	same(t, "regions bound", func(st server.Store) (any, error) {
		b, ok, err := st.RegionsBound(ctx)
		return []any{b, ok}, err
	})
	for _, tile := range []maptile.Tile{maptile.New(0, 0, 0), maptile.New(39, 25, 6), maptile.New(317, 203, 9), maptile.New(2540, 1630, 12), maptile.New(5104, 3290, 13)} {
		same(t, fmt.Sprintf("tile points %v", tile), func(st server.Store) (any, error) {
			return st.TilePoints(ctx, incident.Filter{}, tile, 500)
		})
		for name, f := range map[string]incident.Filter{
			"fatalities": {MinFatalities: ptr(1)},
			// From SQLite's tile_periods (years, months, end days); PostGIS
			// reads the incidents.
			"datetime": {Interval: incident.Interval{Start: time.Date(2021, 3, 10, 0, 0, 0, 0, time.UTC), End: time.Date(2023, 5, 20, 23, 0, 0, 0, time.UTC)}},
		} {
			same(t, fmt.Sprintf("tile grid %v %s", tile, name), func(st server.Store) (any, error) {
				cells, err := st.TileGrid(ctx, f, tile)
				for i := range cells {
					// Centroids are averages: equal to the last bits only if both
					// engines add in the same order.
					cells[i].Lon, cells[i].Lat = round(cells[i].Lon), round(cells[i].Lat)
				}
				return cells, err
			})
		}
	}
	same(t, "tile points by id", func(st server.Store) (any, error) {
		return st.TilePointsByID(ctx, []int64{3013, 1, 500, 99999, 7})
	})
	for _, keys := range [][]incident.GroupKey{{"month"}, {"event_type"}, {"week", "region"}, {"admin1", "actor1"}} {
		same(t, fmt.Sprint("aggregate ", keys), func(st server.Store) (any, error) {
			return st.Aggregate(ctx, incident.Filter{MinFatalities: ptr(1)}, keys, 5)
		})
	}
	// The filter shapes of an analyst's charts: each engine reads them its
	// own way (SQLite's stats index, PostgreSQL's bitmaps), with one answer.
	box := orb.Bound{Min: orb.Point{44.0, 33.0}, Max: orb.Point{44.8, 33.6}}
	for name, f := range map[string]incident.Filter{
		"actors":  {Actors: []string{"Kataib Hezbollah", "Islamic State (Iraq)"}},
		"regions": {Regions: []string{"Baghdad", "IQ-AN"}},
		"bbox":    {BBox: &box},
		"text":    {Text: []incident.Term{{Text: "Mosul"}}},
		"equals":  {Equals: []incident.Equal{{Field: "admin1", Value: "Basra"}}},
	} {
		for _, keys := range [][]incident.GroupKey{{"month", "event_type"}, {"region"}, {"actor1"}} {
			same(t, fmt.Sprint("aggregate ", name, " ", keys), func(st server.Store) (any, error) {
				return st.Aggregate(ctx, f, keys, 0)
			})
		}
	}
}

func round(v float64) float64 { return float64(int64(v*1e9+0.5)) / 1e9 }

func trim(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// volatile are the parts of a response that differ between two runs of one
// engine: times, request ids, the cache state.
var volatile = regexp.MustCompile(`"(updated_at|timeStamp)":"[^"]*"|"updated_at">[^<]*<`)

// TestConformanceHTTP serves both engines and asks both the same requests:
// the bodies must be the same but for timestamps.
func TestConformanceHTTP(t *testing.T) {
	engines := seeded(t, 500)
	var urls []string
	for _, e := range engines {
		urls = append(urls, testsrv.StartEngine(t, e.st, nil, nil).URL)
	}
	paths := []string{
		"/collections/incidents/items?limit=50",
		"/collections/incidents/items?bbox=43,33,44.8,36.5&limit=20&offset=20",
		"/collections/incidents/items?datetime=2021-01-01/2021-12-31&event_types=Battles,Riots",
		"/collections/incidents/items?regions=IQ-AN,Kurdistan%20Region&min_fatalities=1",
		"/collections/incidents/items?q=" + url.QueryEscape(`"Ain al-Asad"`),
		"/collections/incidents/items?filter=" + url.QueryEscape("fatalities > 2 AND S_INTERSECTS(geometry, BBOX(42,32,45,37))"),
		"/collections/incidents/items?sortby=-fatalities,location&limit=30",
		"/collections/incidents/items/3",
		"/collections/incidents/items/999999",
		"/collections/incidents/items?f=csv&event_type=Battles",
		"/collections/incidents/items?f=geojsonseq&limit=30",
		"/collections/incidents/items?f=kml&regions=Baghdad",
		"/collections/incidents",
		"/collections/regions/items",
		"/collections/incidents/aggregate?group_by=month,event_type",
	}
	for _, p := range paths {
		var bodies [2]string
		var codes [2]int
		for i, u := range urls {
			srv := &testsrv.Server{URL: u}
			code, _, body := srv.Get(t, p)
			b := strings.ReplaceAll(string(body), u, "BASE")
			codes[i], bodies[i] = code, volatile.ReplaceAllString(b, "")
		}
		if codes[0] != codes[1] || bodies[0] != bodies[1] {
			t.Errorf("%s: sqlite %d %s\npostgis %d %s", p, codes[0], trim([]byte(bodies[0])), codes[1], trim([]byte(bodies[1])))
		}
	}
}

// TestConformanceImportAndWrites runs imports (good, bad, again, newer,
// older) and single writes on both engines from empty: the same counts,
// ids, errors, history and change log.
func TestConformanceImportAndWrites(t *testing.T) {
	ctx := context.Background()
	engines := []engine{{"sqlite", testsrv.Open(t)}, {"postgis", openPostGIS(t)}}
	incs, err := importer.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	if err != nil {
		t.Fatal(err)
	}
	importAll := func(st server.Store, rows []incident.Incident, ts int64) (incident.ImportCounts, error) {
		return st.Import(ctx, false, func(w incident.ImportWriter) error {
			for i := range rows {
				inc := rows[i]
				if err := w.Put(&inc, ts); err != nil {
					return err
				}
			}
			return nil
		})
	}
	changed := slices.Clone(incs)
	changed[4].Fatalities += 10
	bad := slices.Clone(incs)
	bad[7].Fatalities = -1
	steps := []struct {
		name string
		do   func(st server.Store) (any, error)
	}{
		{"import", func(st server.Store) (any, error) { return importAll(st, incs, 100) }},
		{"import again", func(st server.Store) (any, error) { return importAll(st, incs, 100) }},
		{"bad row", func(st server.Store) (any, error) {
			_, err := importAll(st, bad, 200)
			var fe *incident.FieldError
			return errors.As(err, &fe) && fe.Field == "fatalities", nil
		}},
		{"older source", func(st server.Store) (any, error) { return importAll(st, changed, 50) }},
		{"newer source", func(st server.Store) (any, error) { return importAll(st, changed, 300) }},
		{"dry run", func(st server.Store) (any, error) {
			counts, err := st.Import(ctx, true, func(w incident.ImportWriter) error {
				inc := incident.Incident{EventID: "DRY-1", EventDate: "2024-01-01", TimePrecision: 1, EventType: "Riots",
					GeoPrecision: 1, Lon: 44.4, Lat: 33.3}
				return w.Put(&inc, 0)
			})
			return []any{counts, errors.Is(err, incident.ErrDryRun)}, nil
		}},
		{"create", func(st server.Store) (any, error) {
			inc, err := st.CreateIncident(ctx, incident.Incident{EventID: "NEW-1", EventDate: "2024-02-01",
				TimePrecision: 1, EventType: "Protests", GeoPrecision: 1, Lon: 43.1, Lat: 36.34, Notes: "made here"})
			inc.UpdatedAt = ""
			return inc, err
		}},
		{"create taken event_id", func(st server.Store) (any, error) {
			_, err := st.CreateIncident(ctx, incident.Incident{EventID: "NEW-1", EventDate: "2024-02-01",
				TimePrecision: 1, EventType: "Protests", GeoPrecision: 1, Lon: 43.1, Lat: 36.34})
			var ce *incident.ConflictError
			return errors.As(err, &ce) && ce.ID == 14, nil
		}},
		{"update", func(st server.Store) (any, error) {
			inc, err := st.UpdateIncident(ctx, 14, "alice", func(cur incident.Incident) (incident.Incident, error) {
				cur.Fatalities = 4
				return cur, nil
			})
			inc.UpdatedAt = ""
			return inc, err
		}},
		{"update to the same", func(st server.Store) (any, error) {
			before, _ := st.DataVersion(ctx)
			_, err := st.UpdateIncident(ctx, 14, "alice", func(cur incident.Incident) (incident.Incident, error) { return cur, nil })
			after, _ := st.DataVersion(ctx)
			return after.Seq == before.Seq, err
		}},
		{"delete", func(st server.Store) (any, error) {
			inc, err := st.DeleteIncident(ctx, 2, "bob", nil)
			return inc.EventID, err
		}},
		{"delete missing", func(st server.Store) (any, error) {
			_, err := st.DeleteIncident(ctx, 2, "bob", nil)
			return errors.Is(err, incident.ErrNotFound), nil
		}},
		{"history", func(st server.Store) (any, error) {
			var out []string
			for _, id := range []int64{14, 2, 5} {
				vs, err := st.History(ctx, id)
				if err != nil {
					return nil, err
				}
				for _, v := range vs {
					var f struct {
						Properties struct {
							Fatalities int    `json:"fatalities"`
							EventID    string `json:"event_id"`
						} `json:"properties"`
					}
					if err := json.Unmarshal(v.Feature, &f); err != nil {
						return nil, err
					}
					out = append(out, fmt.Sprintf("%d %s %s by %q fatalities %d", id, v.Op, f.Properties.EventID, v.ChangedBy, f.Properties.Fatalities))
				}
			}
			return out, nil
		}},
		{"change log", func(st server.Store) (any, error) {
			chs, err := st.Changes(ctx, 0, 1000)
			var out []string
			for _, c := range chs {
				out = append(out, fmt.Sprintf("%d %d %s %s", c.Seq, c.IncidentID, c.EventID, c.Op))
			}
			return out, err
		}},
		{"all", func(st server.Store) (any, error) {
			p, err := run(t, st, incident.Filter{})
			return p, err
		}},
	}
	for _, step := range steps {
		var want string
		for i, e := range engines {
			got, err := step.do(e.st)
			if err != nil {
				t.Fatalf("%s: %s: %v", step.name, e.name, err)
			}
			j, _ := json.Marshal(got)
			if i == 0 {
				want = string(j)
			} else if string(j) != want {
				t.Errorf("%s: postgis %s\nsqlite %s", step.name, j, want)
			}
		}
	}
}

// TestCursorRowsEqualScannedRows reads every incident through the cursor
// (which decodes the wire values itself) and through a single-row query
// (pgx's Scan): the same incidents, field for field, non-ASCII text included.
func TestCursorRowsEqualScannedRows(t *testing.T) {
	ctx := context.Background()
	st := seeded(t, 300)[1].st
	cur, err := st.Incidents(ctx, incident.Filter{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	n := 0
	for cur.Next() {
		got := *cur.Incident()
		want, err := st.Incident(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("incident %d: cursor\n%+v\nscan\n%+v", got.ID, got, want)
		}
		n++
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if want, err := st.Extent(ctx); err != nil || int64(n) != want.Count || n < 300 {
		t.Fatalf("read %d incidents, counted %d (%v)", n, want.Count, err)
	}
}
