package incident

import (
	"fmt"
	"unicode/utf8"
)

// TextLimit is the largest size in bytes of the text field called name; 0
// for a name that is not a text field with a limit.
func TextLimit(name string) int {
	if i := PropIndex(name); i >= 0 {
		return Props[i].MaxBytes
	}
	return 0
}

// checkTextLimits reports the first text field over its limit. The error
// quotes only the start of the value: echoing a megabyte back would make the
// error as large as the fault.
func (inc *Incident) checkTextLimits() error {
	for i := range Props {
		f := &Props[i]
		if f.MaxBytes == 0 {
			continue
		}
		if v := *f.Text(inc); len(v) > f.MaxBytes {
			return &FieldError{Field: f.Name, Value: Snippet(v, 60),
				Reason: fmt.Sprintf("is %d bytes long; at most %d are allowed", len(v), f.MaxBytes)}
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
