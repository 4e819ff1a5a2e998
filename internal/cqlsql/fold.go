package cqlsql

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// CaseFold is CASEI: Unicode full case folding (Straße and STRASSE fold
// alike). It maps each character on its own (no context), which is what lets
// a database without Go compute the same: see CaseFoldSQL.
func CaseFold(s string) string { return cases.Fold().String(s) }

// AccentFold is ACCENTI: the text decomposed (NFD), its combining marks
// (Unicode category Mn) dropped — accents on Latin letters, and the short
// vowels and other marks of Arabic script — and composed again (NFC).
func AccentFold(s string) string {
	d := norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// foldTable is CaseFold character by character: the characters that fold to
// one other character (from, to, in the same order) and those that fold to
// several.
func foldTable() (from, to string, multi [][2]string) {
	f := cases.Fold()
	var fb, tb strings.Builder
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue // surrogates are not characters
		}
		s := string(r)
		folded := f.String(s)
		if folded == s {
			continue
		}
		if utf8.RuneCountInString(folded) == 1 {
			fb.WriteRune(r)
			tb.WriteString(folded)
			continue
		}
		multi = append(multi, [2]string{s, folded})
	}
	sort.Slice(multi, func(i, j int) bool { return multi[i][0] < multi[j][0] })
	return fb.String(), tb.String(), multi
}

// quote is s as a PostgreSQL string constant.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// CaseFoldSQL is the PostgreSQL definition of im_casei(text), CaseFold made
// of the table CaseFold itself gives (generated here, so the two cannot
// drift apart), with ASCII text, the common case, lowered by byte whatever
// the database's locale. Other text goes through im_casei_u, which folds
// only the distinct characters of the text that fold, each looked up alone:
// one translate() over the whole text compares each of its characters with
// the 1,512 of the table (~3 ms a value).
func CaseFoldSQL() string {
	from, to, multi := foldTable()
	var class strings.Builder
	class.WriteString("([")
	for _, r := range from {
		if r >= utf8.RuneSelf {
			writeClassRange(&class, r, r)
		}
	}
	pairs := map[string]string{}
	for _, m := range multi {
		for _, r := range m[0] {
			writeClassRange(&class, r, r)
		}
		pairs[m[0]] = m[1]
	}
	multiJSON, _ := json.Marshal(pairs) // a map of strings always encodes
	class.WriteString("])")
	return fmt.Sprintf(`CREATE OR REPLACE FUNCTION im_casei_u(text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $f$
DECLARE c text; s text := lower($1 COLLATE "C");
BEGIN
	FOR c IN SELECT DISTINCT m[1] FROM regexp_matches(s, %s, 'g') AS m LOOP
		s := replace(s, c, coalesce(%s::jsonb ->> c, translate(c, %s, %s)));
	END LOOP;
	RETURN s;
END $f$;
CREATE OR REPLACE FUNCTION im_casei(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $f$
	SELECT CASE WHEN octet_length($1) = char_length($1) THEN lower($1 COLLATE "C") ELSE public.im_casei_u($1) END $f$`,
		quote(class.String()), quote(string(multiJSON)), quote(from), quote(to))
}

// AccentFoldSQL is the PostgreSQL definition of im_accenti(text): AccentFold
// with normalize() and a class of the combining marks (Unicode category Mn,
// from Go's tables). ASCII text has no marks and is returned as it is.
func AccentFoldSQL() string {
	var class strings.Builder
	for _, rg := range unicode.Mn.R16 {
		writeRange(&class, rune(rg.Lo), rune(rg.Hi), rune(rg.Stride))
	}
	for _, rg := range unicode.Mn.R32 {
		writeRange(&class, rune(rg.Lo), rune(rg.Hi), rune(rg.Stride))
	}
	return fmt.Sprintf(`CREATE OR REPLACE FUNCTION im_accenti(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $f$
	SELECT CASE WHEN octet_length($1) = char_length($1) THEN $1
		ELSE normalize(regexp_replace(normalize($1, NFD), %s, '', 'g'), NFC) END $f$`, quote("["+class.String()+"]"))
}

func writeRange(b *strings.Builder, lo, hi, stride rune) {
	if stride == 1 {
		b.WriteRune(lo)
		if hi > lo {
			b.WriteByte('-')
			b.WriteRune(hi)
		}
		return
	}
	for r := lo; r <= hi; r += stride {
		b.WriteRune(r)
	}
}
