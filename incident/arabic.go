package incident

import (
	"strings"
	"unicode"
)

// Arabic text is written with letter variants people use interchangeably
// (alef with or without hamza or madda, ta marbuta or ha at a word's end,
// alef maqsura or ya), with optional short vowels and other marks, and
// stretched with tatweel. A search must find a word however it was typed, so
// both the query and, where an engine can, the stored text are folded to
// one spelling (FoldArabic); an engine whose index keeps the stored
// spellings matches the query's possible spellings instead (ArabicSpellings).
// This is plain Go, so every engine folds the same way.

// HasArabic reports whether s holds an Arabic letter or tatweel (which
// Unicode counts as common to several scripts).
func HasArabic(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r == 'ـ' || unicode.Is(unicode.Arabic, r) && unicode.IsLetter(r) })
}

// FoldArabic folds the Arabic letter variants of s to one spelling: أ إ آ ٱ
// become ا, ة becomes ه, ى becomes ي; tatweel (ـ), the short vowels and
// other marks (tanwin, shadda, sukun, superscript alef, Quranic marks) are
// dropped. Other text is left as it is.
func FoldArabic(s string) string {
	if !HasArabic(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == 'أ' || r == 'إ' || r == 'آ' || r == 'ٱ':
			b.WriteRune('ا')
		case r == 'ة':
			b.WriteRune('ه')
		case r == 'ى':
			b.WriteRune('ي')
		case r == 'ـ': // tatweel
		case r >= 0x064B && r <= 0x065F, r == 0x0670, r >= 0x06D6 && r <= 0x06ED:
			// harakat, tanwin, shadda, sukun, superscript alef, Quranic marks
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ArabicSpellings returns the spellings of a folded Arabic word (or phrase)
// a text may use — each bare alef also as أ, إ or آ; a final ه also as ة;
// a final ي also as ى (the alef of the article al- stays bare) — the folded one first, at most max of them (the
// variants of the first letters first). Text without Arabic gives itself.
func ArabicSpellings(folded string, max int) []string {
	if !HasArabic(folded) || max < 1 {
		return []string{folded}
	}
	rs := []rune(folded)
	out := []string{""}
	for i, r := range rs {
		alts := []rune{r}
		last := i == len(rs)-1 || !unicode.IsLetter(rs[i+1])
		switch {
		case r == 'ا' && wordStart(rs, i) && i+1 < len(rs) && rs[i+1] == 'ل':
			// the article al- is written with a bare alef
		case r == 'ا':
			alts = []rune{'ا', 'أ', 'إ', 'آ'}
		case r == 'ه' && last:
			alts = []rune{'ه', 'ة'}
		case r == 'ي' && last:
			alts = []rune{'ي', 'ى'}
		}
		next := make([]string, 0, len(out)*len(alts))
		for _, prefix := range out {
			for _, a := range alts {
				if len(next) == max {
					break
				}
				next = append(next, prefix+string(a))
			}
		}
		out = next
	}
	return out
}

// wordStart reports whether rs[i] begins a word.
func wordStart(rs []rune, i int) bool {
	return i == 0 || !unicode.IsLetter(rs[i-1])
}
