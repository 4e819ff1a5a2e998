package cqlsql

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestOnlyEnginesImport keeps SQL inside the engines: no package but store
// (SQLite) and postgis (PostGIS) imports the translator.
func TestOnlyEnginesImport(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		dir := filepath.ToSlash(filepath.Dir(rel))
		if dir == "store" || dir == "postgis" || dir == "internal/cqlsql" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), `"incidentmap/internal/cqlsql"`) {
			t.Errorf("%s imports internal/cqlsql: only the engines may", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFoldTable checks that CaseFold is the character-by-character table
// the PostgreSQL function is made of, on every character that folds and on
// strings of them (full folding has no context that a table would miss).
func TestFoldTable(t *testing.T) {
	from, to, multi := foldTable()
	table := map[rune]string{}
	tr := []rune(to)
	for i, r := range []rune(from) {
		table[r] = string(tr[i])
	}
	for _, m := range multi {
		r, _ := utf8.DecodeRuneInString(m[0])
		table[r] = m[1]
	}
	if len(table) < 1500 || len(multi) < 100 {
		t.Fatalf("fold table has %d characters, %d to several: too few", len(table), len(multi))
	}
	var s, want strings.Builder
	for r, f := range table {
		s.WriteRune(r)
		s.WriteString("a ")
		want.WriteString(f)
		want.WriteString("a ")
	}
	if got := CaseFold(s.String()); got != want.String() {
		t.Fatalf("CaseFold of the table's characters differs from the table")
	}
	for in, out := range map[string]string{"Straße": "strasse", "İ": "i\u0307", "ΣΑΣ": "σασ", "ﬁ": "fi"} {
		if got := CaseFold(in); got != out {
			t.Errorf("CaseFold(%q) = %q, want %q", in, got, out)
		}
	}
	for in, out := range map[string]string{"Mósul": "Mosul", "مَسْجِد": "مسجد", "Ḥasan": "Hasan", "ǅ": "ǅ"} {
		if got := AccentFold(in); got != out {
			t.Errorf("AccentFold(%q) = %q, want %q", in, got, out)
		}
	}
}
