package store

import (
	"fmt"
	"strings"
	"unicode"
)

// Limits of a full-text query.
const (
	MaxFullTextLen   = 500
	MaxFullTextTerms = 16
)

// FullTextQuery turns what a person types into an FTS5 query that cannot be
// an FTS5 syntax error: words are quoted (so AND, OR, NEAR, column names and
// punctuation are plain text), "double-quoted runs" are phrases, and a word
// ending in * matches as a prefix. Every term must match. It fails only for
// text with nothing to search for, or longer than MaxFullTextTerms terms or
// MaxFullTextLen bytes (bounds on the work one request can ask of FTS5).
func FullTextQuery(s string) (string, error) {
	if len(s) > MaxFullTextLen {
		return "", fmt.Errorf("q is %d bytes long; at most %d are searched", len(s), MaxFullTextLen)
	}
	var terms []string
	rest := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	for {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		var term string
		prefix := false
		if rest[0] == '"' {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 { // an unclosed quote runs to the end
				term, rest = rest[1:], ""
			} else {
				term, rest = rest[1:1+end], rest[2+end:]
			}
		} else {
			end := strings.IndexFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
			if end < 0 {
				end = len(rest)
			}
			term, rest = rest[:end], rest[end:]
			if strings.HasSuffix(term, "*") {
				term, prefix = strings.TrimRight(term, "*"), true
			}
		}
		if !strings.ContainsFunc(term, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue // nothing the tokenizer would index
		}
		q := `"` + strings.ReplaceAll(term, `"`, `""`) + `"`
		if prefix {
			q += "*"
		}
		if terms = append(terms, q); len(terms) > MaxFullTextTerms {
			return "", fmt.Errorf("q has more than %d words or phrases", MaxFullTextTerms)
		}
	}
	if len(terms) == 0 {
		return "", fmt.Errorf("q %q has no word to search for", s)
	}
	return strings.Join(terms, " AND "), nil
}
