package incident

import (
	"fmt"
	"unicode/utf8"
)

// Text field limits, in bytes of UTF-8 (an Arabic letter is two). They keep
// one incident small enough that a page of them, an export row or an import
// row costs a bounded amount of memory: a 100 MB notes field made every read
// of its row cost hundreds of MB (issue 15). Notes are prose and get room
// for a long report; the other fields are names, codes and tags.
const (
	MaxNotesBytes     = 64 << 10 // notes
	MaxSourceURLBytes = 2 << 10  // source_url: long tracking URLs exist
	MaxEventIDBytes   = 100      // event_id, the external key
	MaxTextBytes      = 1 << 10  // every other text field
)

// TextLimit is the largest size in bytes of the text field called name; 0
// for a name that is not a text field.
func TextLimit(name string) int {
	switch name {
	case "notes":
		return MaxNotesBytes
	case "source_url":
		return MaxSourceURLBytes
	case "event_id":
		return MaxEventIDBytes
	case "event_type", "sub_event_type", "actor1", "actor2", "admin1", "admin2",
		"location", "region", "source", "tags":
		return MaxTextBytes
	}
	return 0
}

// namedText is a text field's name and value.
type namedText struct{ name, value string }

// textFields lists the text fields of inc with their names, for the limits
// (an array, not a slice: Validate runs once per imported row and this
// stays off the heap).
func (inc *Incident) textFields() [13]namedText {
	return [13]namedText{
		{"event_id", inc.EventID}, {"event_type", inc.EventType}, {"sub_event_type", inc.SubEventType},
		{"actor1", inc.Actor1}, {"actor2", inc.Actor2}, {"admin1", inc.Admin1}, {"admin2", inc.Admin2},
		{"location", inc.Location}, {"region", inc.Region}, {"source", inc.Source},
		{"source_url", inc.SourceURL}, {"notes", inc.Notes}, {"tags", inc.Tags},
	}
}

// checkTextLimits reports the first text field over its limit. The error
// quotes only the start of the value: echoing a megabyte back would make the
// error as large as the fault.
func (inc *Incident) checkTextLimits() error {
	for _, f := range inc.textFields() {
		if max := TextLimit(f.name); len(f.value) > max {
			return &FieldError{Field: f.name, Value: Snippet(f.value, 60),
				Reason: fmt.Sprintf("is %d bytes long; at most %d are allowed", len(f.value), max)}
		}
	}
	return nil
}

// Snippet is the start of s, at most n bytes cut at a character boundary,
// with "…" when something was cut: for quoting values in error messages.
func Snippet(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
