package postgis_test

import (
	"context"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"incidentmap/internal/cqlsql"
	"incidentmap/internal/pgtest"
)

// TestWordsAreFTS5Words: PostgreSQL's im_words gives the words of
// cqlsql.Words (FTS5's unicode61 words, see store's TestUnicode61Table), and
// to_tsvector('simple', …) of it holds exactly those words, for every
// character of the Basic Multilingual Plane (in "0c0 c"), a sample of the
// others and random mixed texts.
func TestWordsAreFTS5Words(t *testing.T) {
	ctx := context.Background()
	conn := migratedConn(t)
	texts := unicodeTexts(func(c rune) string { return "0" + string(c) + "0 " + string(c) },
		"aZ09 -_'.,:/@&<>\\ßÆøÇğ\u0301\u064e\u0651مُحَمَّد،«»—\u00a0١٢٣²Ⅳİ", 1, 4)
	rows, err := conn.Query(ctx, `SELECT im_words(s), tsvector_to_array(to_tsvector('simple', im_words(s)))
		FROM unnest($1::text[]) WITH ORDINALITY AS t(s, n) ORDER BY n`, texts)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	bad, i := 0, 0
	for rows.Next() {
		var words string
		var lexemes []string
		if err := rows.Scan(&words, &lexemes); err != nil {
			t.Fatal(err)
		}
		want := cqlsql.Words(texts[i])
		got := strings.Fields(words)
		set := slices.Clone(want)
		slices.Sort(set)
		set = slices.Compact(set)
		if !slices.Equal(got, want) || !slices.Equal(lexemes, set) {
			if bad++; bad <= 10 {
				t.Errorf("%q: im_words %q (lexemes %q); want the words %q", texts[i], got, lexemes, want)
			}
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(texts) {
		t.Fatalf("%d rows for %d texts", i, len(texts))
	}
}

// TestCaseFoldSQLIsCaseFold: PostgreSQL's im_casei (CQL2 CASEI) gives
// cqlsql.CaseFold for every character of the Basic Multilingual Plane and a
// sample of the others, beside ASCII and a character that folds to several,
// and for random mixed texts.
func TestCaseFoldSQLIsCaseFold(t *testing.T) {
	ctx := context.Background()
	conn := migratedConn(t)
	texts := unicodeTexts(func(c rune) string { return "Ab" + string(c) + "ßİ" + string(c) },
		"aZ09 ßẞİıﬁΣσςÆØǅΐ", 2, 3)
	rows, err := conn.Query(ctx, `SELECT im_casei(s) FROM unnest($1::text[]) WITH ORDINALITY AS t(s, n) ORDER BY n`, texts)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	bad, i := 0, 0
	for rows.Next() {
		var got string
		if err := rows.Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := cqlsql.CaseFold(texts[i]); got != want {
			if bad++; bad <= 10 {
				t.Errorf("im_casei(%q) = %q; CaseFold gives %q", texts[i], got, want)
			}
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(texts) {
		t.Fatalf("%d rows for %d texts", i, len(texts))
	}
}

// migratedConn connects to a new test database with this build's schema and
// functions installed.
func migratedConn(t *testing.T) *pgx.Conn {
	t.Helper()
	url := pgtest.DB(t)
	openPostGISAt(t, url).Close() // migrate and install the functions
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// unicodeTexts is one text per character of the Basic Multilingual Plane
// and every 97th other (as wrap places it), then 3,000 random texts of up to
// 40 characters drawn from pool, or (one in oneIn) from anywhere below the
// surrogates.
func unicodeTexts(wrap func(rune) string, pool string, seed int64, oneIn int) []string {
	var texts []string
	for c := rune(1); c <= 0x10FFFF; c++ {
		if c >= 0xD800 && c <= 0xDFFF || c > 0xFFFF && c%97 != 0 {
			continue
		}
		texts = append(texts, wrap(c))
	}
	rng := rand.New(rand.NewSource(seed))
	runes := []rune(pool)
	for range 3000 {
		var b strings.Builder
		for range 1 + rng.Intn(40) {
			if rng.Intn(oneIn) == 0 {
				b.WriteRune(rune(0x80 + rng.Intn(0xD800-0x80)))
			} else {
				b.WriteRune(runes[rng.Intn(len(runes))])
			}
		}
		texts = append(texts, b.String())
	}
	return texts
}
