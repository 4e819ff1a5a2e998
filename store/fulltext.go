package store

import "incidentmap/incident"

// Limits of a full-text query (see incident.ParseText).
const (
	MaxFullTextLen   = incident.MaxTextLen
	MaxFullTextTerms = incident.MaxTextTerms
)

// FullTextQuery is the FTS5 query the store runs for what a person types (see
// incident.ParseText): words quoted, so AND, OR, NEAR, column names and
// punctuation are plain text; phrases in order; a word ending in * a prefix;
// every term must match.
func FullTextQuery(s string) (string, error) {
	terms, err := incident.ParseText(s)
	if err != nil {
		return "", err
	}
	return ftsQuery(terms), nil
}

// FTSQuery is the FTS5 query of parsed full-text terms, as the store runs it.
func FTSQuery(terms []incident.Term) string { return ftsQuery(terms) }
