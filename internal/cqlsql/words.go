package cqlsql

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// The words of full text (q=) are those of the SQLite engine's FTS5
// tokenizer, unicode61 with remove_diacritics 2, on both engines. Its tables
// are in unicode61_table.go, read from the SQLite this build links (go test
// ./store -run TestUnicode61Table -update writes them; the test checks them
// against FTS5 itself), and PostgreSQL's im_words (WordsSQL) is generated
// from them, so a word, a phrase or a prefix matches the same rows on both.
//
// unicode61 splits text at separator characters (u61Separators), drops the
// combining marks it removes inside a word (u61Dropped), and folds each
// other character on its own (u61Fold: case, and Latin letters' diacritics);
// it folds nothing else. So "Straße" is the word "straße", not "strasse";
// "Ærø" is "ærø"; "Çağ" is "cag"; and Arabic harakat are separators.

// Words are the words FTS5's unicode61 tokenizer (remove_diacritics 2)
// makes of s, folded.
func Words(s string) []string {
	var words []string
	var w strings.Builder
	for _, r := range s {
		switch {
		case inRanges(u61Separators, r):
			if w.Len() > 0 {
				words = append(words, w.String())
				w.Reset()
			}
		case inRanges(u61Dropped, r):
		default:
			w.WriteRune(u61FoldRune(r))
		}
	}
	if w.Len() > 0 {
		words = append(words, w.String())
	}
	return words
}

// u61FoldRune is unicode61's fold of one word character.
func u61FoldRune(r rune) rune {
	i := sort.Search(len(u61Fold), func(i int) bool { return u61Fold[i][0] >= r })
	if i < len(u61Fold) && u61Fold[i][0] == r {
		return u61Fold[i][1]
	}
	return r
}

func inRanges(rs [][2]rune, r rune) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i][1] >= r })
	return i < len(rs) && rs[i][0] <= r
}

// WordsSQL defines PostgreSQL's im_words(text): the words of Words, folded
// alike, each separated by spaces, for to_tsvector('simple', …) and
// phraseto_tsquery('simple', …) to read as they are. ASCII text, the common
// case, is an inlinable SQL expression; other text goes through
// im_words_u, which folds only the distinct characters of the text that
// fold, each looked up alone (translate() compares every character of its
// text with every character of its table: over a whole text it cost ~1 ms).
func WordsSQL() string {
	var sep strings.Builder
	sep.WriteString("[")
	for _, rg := range u61Separators {
		writeClassRange(&sep, rg[0], rg[1])
	}
	sep.WriteString("]+")
	var dropped strings.Builder
	for _, rg := range u61Dropped {
		for r := rg[0]; r <= rg[1]; r++ {
			dropped.WriteRune(r)
		}
	}
	var body strings.Builder
	fmt.Fprintf(&body, "DECLARE c text; s text := lower(translate(regexp_replace($1, %s, ' ', 'g'), %s, '') COLLATE \"C\");\nBEGIN\n",
		quote(sep.String()), quote(dropped.String()))
	var from, to, class strings.Builder
	var fold [][2]rune
	for _, p := range u61Fold {
		if p[0] >= utf8.RuneSelf {
			fold = append(fold, p)
			from.WriteRune(p[0])
			to.WriteRune(p[1])
		}
	}
	class.WriteString("[")
	for i := 0; i < len(fold); {
		j := i
		for j+1 < len(fold) && fold[j+1][0] == fold[j][0]+1 {
			j++
		}
		writeClassRange(&class, fold[i][0], fold[j][0])
		i = j + 1
	}
	class.WriteString("]")
	// Each character to fold once, by its place in the table.
	fmt.Fprintf(&body, `	IF s ~ %[1]s THEN
		FOR c IN SELECT DISTINCT m[1] FROM regexp_matches(s, %[2]s, 'g') AS m LOOP
			s := replace(s, c, translate(c, %[3]s, %[4]s));
		END LOOP;
	END IF;
`, quote(class.String()), quote("("+class.String()+")"), quote(from.String()), quote(to.String()))
	body.WriteString("\tRETURN s;\nEND")
	asciiSep := "[^0-9A-Za-z]+"
	return fmt.Sprintf(`CREATE OR REPLACE FUNCTION im_words_u(text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $f$
%s $f$;
CREATE OR REPLACE FUNCTION im_words(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $f$
	SELECT CASE WHEN octet_length($1) = char_length($1) THEN lower(regexp_replace($1, %s, ' ', 'g') COLLATE "C")
		ELSE public.im_words_u($1) END $f$;`, body.String(), quote(asciiSep))
}

// writeClassRange writes lo-hi into a bracket expression of PostgreSQL's
// regular expressions (ASCII punctuation escaped, which AREs take
// literally).
func writeClassRange(b *strings.Builder, lo, hi rune) {
	one := func(r rune) {
		if r < utf8.RuneSelf && !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') && r > ' ' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	one(lo)
	if hi > lo {
		b.WriteByte('-')
		one(hi)
	}
}
