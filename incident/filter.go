package incident

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/paulmach/orb"

	"incidentmap/cql2"
)

// Filter selects incidents as typed predicates; every engine translates it to
// its own query language (no SQL text crosses the seam). Zero fields do not
// filter; the predicates are AND-ed.
type Filter struct {
	BBox          *orb.Bound // points inside or on the edge
	Interval      Interval   // event_date overlaps it
	EventTypes    []string   // any of, exact
	SubEventTypes []string   // any of, exact
	Regions       []string   // any of, matched against region or admin1, case-insensitive; ISO 3166-2 codes too
	Actors        []string   // any of, matched exactly against actor1 or actor2
	MinFatalities *int       // at least
	MaxFatalities *int       // at most
	Equals        []Equal    // property = value, each exact
	IDs           []int64    // feature id any of; nil: no restriction (an empty non-nil list matches nothing)
	Expr          cql2.Expr  // a CQL2 filter over the queryables; nil for none
	Text          []Term     // full text: every term must match (see ParseText); nil for none
	ByRelevance   bool       // with Text: best matches first, then by id
	ByID          bool       // order by id even with a bbox
	UpdatedSince  string     // updated_at at or after this RFC 3339 instant (UTC, to the second, …Z); "" for any
	Sort          []SortKey  // order by these fields, then id (in the last key's direction); overrides ByID and the spatial order
	Limit         int        // 0 means all
	Offset        int
	// MayDeferCount lets Incidents leave the cursor's Matched at -1 (not
	// counted yet) when the count would cost more than the page; the engine
	// then finishes it in the background, for the next request of the same
	// filter. An engine may always count.
	MayDeferCount bool
}

// Equal is an exact equality test of one stored field: Field is a property
// name of the field table (see Fields; not the geometry), Value a string or an
// int64 compared as stored (no case folding, no trimming, no lists).
type Equal struct {
	Field string
	Value any
}

// SortKey is one key of an order: a field of the field table (see IsField)
// and its direction.
type SortKey struct {
	Field string
	Desc  bool
}

// Term is one full-text term: a word, or the words of a "quoted phrase" in
// order; with Prefix the (last) word matches as a prefix.
type Term struct {
	Text   string
	Prefix bool
	// Any are other spellings or names of the same thing: the term matches
	// when Text or any of them does (an Arabic word's letter variants, the
	// English name of an Arabic place name; see server's gazetteer).
	Any []string
}

// ErrInvalid is wrapped by errors for requests the data model cannot answer,
// such as a filter naming a property that does not exist or comparing it with
// a value of the wrong type: the caller's fault, never the engine's.
var ErrInvalid = errors.New("invalid")

// ErrNotFound is wrapped by errors for a row that does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is wrapped by errors for a write that would break a uniqueness
// rule, such as a second incident with an event_id already stored.
var ErrConflict = errors.New("conflict")

// Limits of a full-text query: bounds on the work one request can ask.
const (
	MaxTextLen   = 500
	MaxTextTerms = 16
)

// ParseText turns what a person types into full-text terms: words,
// "double-quoted runs" as phrases, and a word ending in * as a prefix. Every
// term must match. Operators and punctuation are plain text, so any input is a
// valid query; it fails only for text with nothing to search for, or longer
// than MaxTextTerms terms or MaxTextLen bytes.
func ParseText(s string) ([]Term, error) {
	if len(s) > MaxTextLen {
		return nil, fmt.Errorf("q is %d bytes long; at most %d are searched", len(s), MaxTextLen)
	}
	var terms []Term
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
		var t Term
		if rest[0] == '"' {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 { // an unclosed quote runs to the end
				t.Text, rest = rest[1:], ""
			} else {
				t.Text, rest = rest[1:1+end], rest[2+end:]
			}
		} else {
			end := strings.IndexFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
			if end < 0 {
				end = len(rest)
			}
			t.Text, rest = rest[:end], rest[end:]
			if strings.HasSuffix(t.Text, "*") {
				t.Text, t.Prefix = strings.TrimRight(t.Text, "*"), true
			}
		}
		if !strings.ContainsFunc(t.Text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue // nothing a tokenizer would index
		}
		if terms = append(terms, t); len(terms) > MaxTextTerms {
			return nil, fmt.Errorf("q has more than %d words or phrases", MaxTextTerms)
		}
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("q %q has no word to search for", s)
	}
	return terms, nil
}
