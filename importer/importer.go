// Package importer reads incident files — ACLED CSV, GeoJSON FeatureCollections
// and GeoJSON Text Sequences — row by row, without holding the file in memory,
// and loads them into the store in one all-or-nothing transaction.
package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"incidentmap/incident"
)

// Format names an import file format.
type Format string

// The formats Read understands.
const (
	FormatAuto       Format = "auto"
	FormatACLED      Format = "acled-csv"
	FormatGeoJSON    Format = "geojson"
	FormatGeoJSONSeq Format = "geojsonseq"
)

// ParseFormat checks a format name given by a user.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatAuto, FormatACLED, FormatGeoJSON, FormatGeoJSONSeq:
		return f, nil
	}
	return "", fmt.Errorf("format %q is not one of auto, acled-csv, geojson, geojsonseq", s)
}

// FormatOfMediaType maps a Content-Type to a format; "" for an unknown type.
func FormatOfMediaType(ct string) Format {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	switch ct {
	case "text/csv", "application/csv":
		return FormatACLED
	case "application/geo+json", "application/json":
		return FormatGeoJSON
	case "application/geo+json-seq", "application/json-seq", "application/x-ndjson", "application/geo+json-l":
		return FormatGeoJSONSeq
	}
	return ""
}

// FormatOfName guesses a format from a file name's extension; "" when it cannot.
func FormatOfName(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return FormatACLED
	case ".geojson", ".json":
		return FormatGeoJSON
	case ".geojsonl", ".geojsons", ".geojsonseq", ".ndjson", ".jsonl":
		return FormatGeoJSONSeq
	}
	return ""
}

// Sniff guesses the format from the first bytes: RS starts a text sequence, {
// a GeoJSON document, anything else is taken as CSV.
func Sniff(br *bufio.Reader) Format {
	for n := 1; n <= 512; n++ {
		b, err := br.Peek(n)
		if len(b) < n || err != nil {
			break
		}
		switch c := b[n-1]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || (n <= 3 && (c == 0xEF || c == 0xBB || c == 0xBF)):
			continue
		case c == 0x1E:
			return FormatGeoJSONSeq
		case c == '{':
			return FormatGeoJSON
		default:
			return FormatACLED
		}
	}
	return FormatACLED
}

// Row is one incident read from a file. Row counts data rows (CSV rows after
// the header, features, sequence records) from 1.
type Row struct {
	Row       int
	Incident  incident.Incident
	Timestamp int64 // the source's Unix timestamp; 0 when it has none
}

// Problem is one bad row: where, which field, what value and why.
type Problem struct {
	Row    int    `json:"row"`
	Field  string `json:"field"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// String is the report line of a problem.
func (p Problem) String() string {
	if len(p.Value) > 80 {
		p.Value = p.Value[:77] + "..."
	}
	return fmt.Sprintf("row %d: %s %q %s", p.Row, p.Field, p.Value, p.Reason)
}

// problemOf turns a row's error into a Problem.
func problemOf(row int, err error) Problem {
	var fe *incident.FieldError
	if errors.As(err, &fe) {
		// A report lists up to MaxProblems values: each is cut short so the
		// report stays small whatever the rows hold.
		return Problem{Row: row, Field: fe.Field, Value: incident.Snippet(fe.Value, 200), Reason: fe.Reason}
	}
	return Problem{Row: row, Field: "row", Reason: err.Error()}
}

// Read reads rows of format f from r and calls fn for each: with the row, or
// with a problem when the row is bad (the zero Row then has only Row.Row). An
// error from fn stops reading and is returned. A file that cannot be read at
// all (no header, not JSON) is an error. FormatAuto sniffs the content.
func Read(r io.Reader, f Format, fn func(Row, *Problem) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	if f == FormatAuto || f == "" {
		f = Sniff(br)
	}
	// A UTF-8 byte order mark (Excel writes one) is not part of the data.
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	switch f {
	case FormatACLED:
		return readACLED(br, fn)
	case FormatGeoJSON:
		return readGeoJSON(br, fn)
	case FormatGeoJSONSeq:
		return readGeoJSONSeq(br, fn)
	}
	return fmt.Errorf("unknown format %q", f)
}

// IncidentsFromGeoJSON reads every incident of a small GeoJSON
// FeatureCollection held in memory, such as the embedded seed, with the
// decoder of every import; the first bad feature is the error.
func IncidentsFromGeoJSON(data []byte) ([]incident.Incident, error) {
	var out []incident.Incident
	err := Read(bytes.NewReader(data), FormatGeoJSON, func(r Row, p *Problem) error {
		if p != nil {
			return errors.New(p.String())
		}
		out = append(out, r.Incident)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read GeoJSON: %w", err)
	}
	return out, nil
}
