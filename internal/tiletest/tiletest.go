// Package tiletest checks an engine's tile pre-aggregates against tiles
// computed from the incidents, through bulk loads, re-imports and writes; the
// SQLite and PostGIS tests both run it.
package tiletest

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb/maptile"

	"incidentmap/incident"
	"incidentmap/synth"
)

// Store is what the check drives.
type Store interface {
	incident.Reader
	incident.Writer
	incident.Tiler
	incident.Importer
}

// filters are the filters the pre-aggregates answer, each compared with
// the same filter plus a bound that matches every incident (fatalities ≥ 0),
// which sends the engine to the incidents instead.
var filters = []incident.Filter{
	{},
	{EventTypes: []string{"Battles", "Riots"}},
	{Equals: []incident.Equal{{Field: "event_type", Value: "Protests"}}},
	{EventTypes: []string{"Battles", "Protests"}, Equals: []incident.Equal{{Field: "event_type", Value: "Battles"}}},
	{EventTypes: []string{"Riots"}, Equals: []incident.Equal{{Field: "event_type", Value: "Battles"}}},
	{EventTypes: []string{"No such type"}},
	// By dates (the SQLite engine's tile_periods, zooms 0–10): whole years,
	// months and days at either end, open ends, one month, one day.
	{Interval: interval("2021-01-01", "2021-12-31")},
	{Interval: interval("2018-03-15", "2022-02-10")},
	{Interval: interval("2019-02-01", "2019-02-28")},
	{Interval: interval("", "2019-06-30")},
	{Interval: interval("2023-05-02", "")},
	{Interval: interval("2020-07-04", "2020-07-04")},
	{Interval: interval("2017-12-01", "2018-01-31")},
}

// interval is the interval of the days first…last ("": open).
func interval(first, last string) incident.Interval {
	var iv incident.Interval
	if first != "" {
		iv.Start, _ = time.Parse(incident.DateLayout, first)
	}
	if last != "" {
		t, _ := time.Parse(incident.DateLayout, last)
		iv.End = t.Add(24*time.Hour - time.Nanosecond)
	}
	return iv
}

// Run loads synthetic incidents into the empty st (a bulk load), re-imports
// part of them changed (moved, retyped, other fatalities) with new ones,
// then makes random creates, updates and deletes; after each stage every
// tile of zooms 0–14 around the points ever written (a sample per zoom)
// must be the same from the pre-aggregates as from the incidents, cell by
// cell, and TileCount, where the engine answers it, the tile's count.
func Run(t *testing.T, st Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewSource(16))
	var points [][2]float64 // every position ever written
	load := func(incs []incident.Incident) {
		t.Helper()
		_, err := st.Import(ctx, false, func(w incident.ImportWriter) error {
			for i := range incs {
				if err := w.Put(&incs[i], 0); err != nil {
					return err
				}
				points = append(points, [2]float64{incs[i].Lon, incs[i].Lat})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var first []incident.Incident
	for i := 1; i <= 3000; i++ {
		first = append(first, synth.Incident(7, i))
	}
	load(first)
	check(t, ctx, st, rng, points, "after the bulk load")

	// A re-import: a third changed (moved near another incident, retyped,
	// other fatalities) and a thousand new.
	var again []incident.Incident
	for i := 0; i < len(first); i += 3 {
		inc := first[i]
		other := first[rng.Intn(len(first))]
		inc.Lon, inc.Lat = other.Lon+0.001, other.Lat-0.001
		inc.EventType = other.EventType
		inc.Fatalities = rng.Intn(20)
		inc.Admin1, inc.Region = "", ""
		again = append(again, inc)
	}
	for i := 3001; i <= 4000; i++ {
		again = append(again, synth.Incident(7, i))
	}
	load(again)
	check(t, ctx, st, rng, points, "after a re-import")

	// Random writes through the write API.
	for op := 0; op < 300; op++ {
		id := int64(1 + rng.Intn(4000))
		switch rng.Intn(3) {
		case 0:
			inc := synth.Incident(8, op+1)
			inc.EventID = fmt.Sprintf("tiletest-%d", op)
			if _, err := st.CreateIncident(ctx, inc); err != nil {
				t.Fatalf("create: %v", err)
			}
			points = append(points, [2]float64{inc.Lon, inc.Lat})
		case 1:
			p := points[rng.Intn(len(points))]
			_, err := st.UpdateIncident(ctx, id, "tiletest", func(cur incident.Incident) (incident.Incident, error) {
				switch rng.Intn(3) {
				case 0:
					cur.Lon, cur.Lat = p[0]+0.0003, p[1]
					cur.Admin1, cur.Region = "", ""
				case 1:
					cur.EventType = []string{"Battles", "Riots", "Protests"}[rng.Intn(3)]
				default:
					cur.Fatalities = rng.Intn(50)
				}
				points = append(points, [2]float64{cur.Lon, cur.Lat})
				return cur, nil
			})
			if err != nil && !isNotFound(err) {
				t.Fatalf("update %d: %v", id, err)
			}
		default:
			if _, err := st.DeleteIncident(ctx, id, "tiletest", func(incident.Incident) error { return nil }); err != nil && !isNotFound(err) {
				t.Fatalf("delete %d: %v", id, err)
			}
		}
	}
	check(t, ctx, st, rng, points, "after random writes")
}

func isNotFound(err error) bool { return errors.Is(err, incident.ErrNotFound) }

// check compares sampled tiles of every zoom; it fails unless some cells
// were compared at each zoom.
func check(t *testing.T, ctx context.Context, st Store, rng *rand.Rand, points [][2]float64, stage string) {
	t.Helper()
	zero := 0
	for z := maptile.Zoom(0); z <= 14; z++ {
		var tiles []maptile.Tile
		for _, p := range points {
			tl := maptile.At([2]float64{p[0], p[1]}, z)
			if !slices.Contains(tiles, tl) {
				tiles = append(tiles, tl)
			}
		}
		rng.Shuffle(len(tiles), func(i, j int) { tiles[i], tiles[j] = tiles[j], tiles[i] })
		tiles = tiles[:min(len(tiles), 12)]
		cells := 0
		for _, tl := range tiles {
			for _, f := range filters {
				got, err := st.TileGrid(ctx, f, tl)
				if err != nil {
					t.Fatalf("%s: tile %v %+v: %v", stage, tl, f, err)
				}
				scan := f
				scan.MinFatalities = &zero
				want, err := st.TileGrid(ctx, scan, tl)
				if err != nil {
					t.Fatalf("%s: tile %v %+v: %v", stage, tl, f, err)
				}
				if (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: tile %v %+v: %d cells from the pre-aggregates, %d from the incidents; first difference: %s",
						stage, tl, f, len(got), len(want), firstDifference(got, want))
				}
				cells += len(got)
				checkSingles(t, ctx, st, got, fmt.Sprintf("%s: tile %v %+v", stage, tl, f))
				n, ok, err := st.TileCount(ctx, f, tl)
				if err != nil {
					t.Fatalf("%s: tile count %v: %v", stage, tl, err)
				}
				var total int64
				for _, c := range want {
					total += int64(c.Count)
				}
				_, byType := incident.TileTypes(f)
				if byType && ok != (z >= incident.TileAggMinLevel && z <= incident.TileAggMaxLevel) || ok && n != total {
					t.Fatalf("%s: tile count %v %+v: %d (answered %t), the grid holds %d", stage, tl, f, n, ok, total)
				}
			}
		}
		if cells == 0 {
			t.Fatalf("%s: no cell compared at zoom %d", stage, z)
		}
	}
}

// checkSingles checks that the incidents the cells of one name are there
// (TilePointsByID), with the cell's fatalities, at its centroid to the
// fixed point's last digit.
func checkSingles(t *testing.T, ctx context.Context, st Store, cells []incident.TileCell, where string) {
	t.Helper()
	var ids []int64
	want := map[int64]incident.TileCell{}
	for _, c := range cells {
		if c.Single != nil {
			if c.Count != 1 || c.Single.Fatalities != c.Fatalities {
				t.Fatalf("%s: single of cell %s", where, describe(c))
			}
			ids = append(ids, c.Single.ID)
			want[c.Single.ID] = c
		} else if c.Count == 1 {
			t.Fatalf("%s: cell %s of one names no incident", where, describe(c))
		}
	}
	points, err := st.TilePointsByID(ctx, append(ids, -1))
	if err != nil {
		t.Fatalf("%s: points by id: %v", where, err)
	}
	if len(points) != len(ids) {
		t.Fatalf("%s: %d points by id of %d", where, len(points), len(ids))
	}
	for i, p := range points {
		c, ok := want[p.ID]
		if !ok || i > 0 && points[i-1].ID >= p.ID {
			t.Fatalf("%s: point %d by id not asked or out of order", where, p.ID)
		}
		lon, lat := incident.TileCentroid(int64(p.Lon*incident.TileCoordScale), int64(p.Lat*incident.TileCoordScale), 1)
		if p.Fatalities != c.Fatalities || lon != c.Lon || lat != c.Lat || p.EventDate == "" || p.EventType == "" {
			t.Fatalf("%s: point %+v by id, cell %s", where, p, describe(c))
		}
	}
}

// firstDifference describes the first cell that differs.
func firstDifference(got, want []incident.TileCell) string {
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w any = "none", "none"
		if i < len(got) {
			g = describe(got[i])
		}
		if i < len(want) {
			w = describe(want[i])
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			return fmt.Sprintf("cell %d: %v, want %v", i, g, w)
		}
	}
	return "none visible"
}

func describe(c incident.TileCell) string {
	s := fmt.Sprintf("key %d n %d fat %d at %.12f %.12f", c.Key, c.Count, c.Fatalities, c.Lon, c.Lat)
	if c.Single != nil {
		s += fmt.Sprintf(" single %+v", *c.Single)
	}
	return s
}
