package server

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/paulmach/orb/geojson"

	"incidentmap/basemap"
	"incidentmap/incident"
	"incidentmap/seed"
)

// maxArabicSpellings bounds the spellings one Arabic search word expands to
// (a word of two alefs and a final ta marbuta has 4×4×2 = 32).
const maxArabicSpellings = 16

// gazetteer maps Arabic place names, folded (incident.FoldArabic), to their
// English names: the places, rivers and lakes of the basemap and the
// governorates. Incidents are mostly reported in English, so q=بغداد must
// also look for "Baghdad".
type gazetteer map[string][]string

// arabicNames is the gazetteer of the embedded data, built on first use; it
// is never changed after.
var arabicNames = sync.OnceValues(buildGazetteer)

// buildGazetteer reads the Arabic and English names of the embedded base
// layers and governorates.
func buildGazetteer() (gazetteer, error) {
	g := gazetteer{}
	for _, layer := range []string{"places", "rivers", "lakes"} {
		data, _, err := basemap.File(layer)
		if err != nil {
			return nil, err
		}
		fc, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			return nil, fmt.Errorf("gazetteer: basemap %s: %w", layer, err)
		}
		for _, f := range fc.Features {
			g.add(f.Properties.MustString("name_ar", ""), f.Properties.MustString("name", ""))
		}
	}
	fc, err := geojson.UnmarshalFeatureCollection(seed.RegionsGeoJSON)
	if err != nil {
		return nil, fmt.Errorf("gazetteer: regions: %w", err)
	}
	for _, f := range fc.Features {
		ar := f.Properties.MustString("name_ar", "")
		// "محافظة بغداد" is Baghdad Governorate; people search for "بغداد".
		ar = strings.TrimPrefix(ar, "محافظة ")
		g.add(ar, f.Properties.MustString("name", ""), f.Properties.MustString("name_source", ""))
	}
	return g, nil
}

// add records English names of an Arabic name, under its folded form and,
// for a name with the article al-, also without it.
func (g gazetteer) add(ar string, english ...string) {
	if ar == "" {
		return
	}
	key := incident.FoldArabic(ar)
	for _, k := range []string{key, strings.TrimPrefix(key, "ال")} {
		for _, e := range english {
			if e != "" && !slices.Contains(g[k], e) {
				g[k] = append(g[k], e)
			}
		}
	}
}

// lookup finds the English names of a folded Arabic word or phrase, also
// when it carries the article al- or a one-letter prefix (و and, ب in,
// ل for, ف so, ك as) that the name itself does not have.
func (g gazetteer) lookup(folded string) []string {
	if names, ok := g[folded]; ok {
		return names
	}
	if rest, ok := strings.CutPrefix(folded, "ال"); ok && g[rest] != nil {
		return g[rest]
	}
	for _, p := range []string{"و", "ب", "ل", "ف", "ك"} {
		rest, ok := strings.CutPrefix(folded, p)
		if !ok || len([]rune(rest)) < 2 {
			continue
		}
		if names, ok := g[rest]; ok {
			return names
		}
		if r, ok := strings.CutPrefix(rest, "ال"); ok && g[r] != nil {
			return g[r]
		}
	}
	return nil
}

// expandArabic gives each search term written in Arabic its other spellings
// (the letter variants, see incident.ArabicSpellings) and, for a place name
// the gazetteer knows, its English names; a term matches when any of them
// does. Terms in other scripts are left as they are, so q keeps its meaning
// for Latin text.
func expandArabic(terms []incident.Term) ([]incident.Term, error) {
	var g gazetteer
	kept := terms[:0]
	for i := range terms {
		t := terms[i]
		if !incident.HasArabic(t.Text) {
			kept = append(kept, t)
			continue
		}
		if g == nil {
			var err error
			if g, err = arabicNames(); err != nil {
				return nil, err
			}
		}
		folded := incident.FoldArabic(t.Text)
		if !strings.ContainsFunc(folded, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue // only tatweel and marks: nothing to search for
		}
		var alts []string
		for _, s := range incident.ArabicSpellings(folded, maxArabicSpellings) {
			if s != t.Text && !slices.Contains(alts, s) {
				alts = append(alts, s)
			}
		}
		if !t.Prefix {
			for _, e := range g.lookup(folded) {
				if !slices.Contains(alts, e) {
					alts = append(alts, e)
				}
			}
		}
		t.Any = append(t.Any, alts...)
		kept = append(kept, t)
	}
	if len(kept) == 0 {
		return nil, badRequest("q has no word to search for")
	}
	return kept, nil
}
