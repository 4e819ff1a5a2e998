package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"incidentmap/incident"
)

// readGeoJSON walks a FeatureCollection token by token and decodes one feature
// at a time, so a file of a million features never sits in memory whole.
//
// A json.Decoder holds each value it decodes whole; the guard bounds that
// (MaxRecordBytes): before every step the guard is told where the next value
// starts, and a value that grows past the limit fails the read.
func readGeoJSON(r io.Reader, fn func(Row, *Problem) error) error {
	guard := &jsonGuard{r: r}
	dec := json.NewDecoder(guard)
	next := func() { guard.mark = dec.InputOffset() }
	next()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("geojson: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("geojson: the file is not a JSON object (a FeatureCollection)")
	}
	sawFeatures := false
	for next(); dec.More(); next() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("geojson: %w", err)
		}
		key, _ := tok.(string)
		next()
		switch key {
		case "features":
			sawFeatures = true
			if err := readFeatureArray(dec, next, fn); err != nil {
				return err
			}
		case "type":
			var t string
			if err := dec.Decode(&t); err != nil {
				return fmt.Errorf("geojson: type: %w", err)
			}
			if t != "FeatureCollection" {
				return fmt.Errorf("geojson: type %q: the file must be a FeatureCollection", incident.Snippet(t, 60))
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("geojson: %s: %w", incident.Snippet(key, 60), err)
			}
		}
	}
	if !sawFeatures {
		return errors.New(`geojson: the FeatureCollection has no "features" array`)
	}
	// The closing brace: without this a file cut short after its last
	// feature would pass for a complete one.
	next()
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("geojson: the FeatureCollection does not end with }: %w", err)
	}
	return endOfDocument(dec, next)
}

// endOfDocument refuses anything but white space after the top-level value: a
// second FeatureCollection, a bare Feature or garbage would otherwise be
// dropped without a word, and the import reported as complete.
func endOfDocument(dec *json.Decoder, next func()) error {
	next()
	at := dec.InputOffset()
	tok, err := dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return fmt.Errorf("geojson: after the FeatureCollection (byte %d): %w; the file must hold one JSON value", at, err)
	}
	what := fmt.Sprintf("%v", tok)
	if d, ok := tok.(json.Delim); ok && d == '{' {
		what = "another object"
	}
	return fmt.Errorf("geojson: %s after the end of the FeatureCollection (byte %d); the file must hold one JSON value (for many, use GeoJSON text sequences)", what, at)
}

// readFeatureArray reads the features array one feature at a time; next
// tells the guard that a new value starts (see readGeoJSON).
func readFeatureArray(dec *json.Decoder, next func(), fn func(Row, *Problem) error) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("geojson: features: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errors.New("geojson: features is not an array")
	}
	var raw json.RawMessage
	for row := 1; ; row++ {
		next()
		if !dec.More() {
			break
		}
		raw = raw[:0]
		next()
		if err := dec.Decode(&raw); err != nil {
			// Broken JSON cannot be resynchronised: the file is unreadable here.
			return fmt.Errorf("geojson: feature %d: %w", row, err)
		}
		if err := featureRow(row, raw, fn); err != nil {
			return err
		}
	}
	next()
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("geojson: features: %w", err)
	}
	return nil
}

// featureRow decodes one feature and hands it (or its problem) to fn.
func featureRow(row int, raw []byte, fn func(Row, *Problem) error) error {
	out, err := FeatureRow(raw)
	out.Row = row
	if err != nil {
		p := problemOf(row, err)
		return fn(Row{Row: row}, &p)
	}
	return fn(out, nil)
}

// FeatureRow reads one GeoJSON Feature into a row: its incident (normalized
// and validated) and the optional "timestamp" property (Unix seconds). A bad
// feature gives a *incident.FieldError naming the field, its value and the reason.
// It reads the bytes directly (see feature.go) because it runs once per row of
// imports of millions of rows.
func FeatureRow(raw []byte) (Row, error) {
	return decodeFeature(raw)
}

func snippet(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

// readGeoJSONSeq reads RFC 8142 text sequences: records start with RS (0x1E).
// A file that does not start with RS is read as newline-delimited GeoJSON,
// one feature per line, which many tools write under the same name.
func readGeoJSONSeq(br *bufio.Reader, fn func(Row, *Problem) error) error {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return nil // empty file: no rows
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' {
			br.Discard(1)
			continue
		}
		break
	}
	first, _ := br.Peek(1)
	sep := byte('\n')
	if first[0] == 0x1E {
		sep = 0x1E
		br.Discard(1)
	}
	var long []byte // a record longer than br's buffer, gathered
	for row := 1; ; {
		rec, err := br.ReadSlice(sep)
		tooLong := false
		if errors.Is(err, bufio.ErrBufferFull) {
			// A record longer than the buffer: gather it, up to the limit
			// (MaxRecordBytes). Beyond it the rest is skipped to the next
			// separator and the row reported: records resynchronise, so
			// the rest of the file is still checked.
			long = append(long[:0], rec...)
			for errors.Is(err, bufio.ErrBufferFull) {
				rec, err = br.ReadSlice(sep)
				if len(long)+len(rec) > MaxRecordBytes {
					tooLong = true
				} else {
					long = append(long, rec...)
				}
			}
			rec = long
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("geojsonseq: record %d: %w", row, err)
		}
		if tooLong {
			p := Problem{Row: row, Field: "feature", Value: snippet(rec), Reason: "is " + errRecordTooLong.Error()}
			if ferr := fn(Row{Row: row}, &p); ferr != nil {
				return ferr
			}
			row++
			if err == io.EOF {
				return nil
			}
			continue
		}
		rec = bytes.TrimRight(rec, string([]byte{sep}))
		rec = bytes.TrimSpace(rec)
		if len(rec) > 0 {
			if ferr := featureRow(row, rec, fn); ferr != nil {
				return ferr
			}
			row++
		}
		if err == io.EOF {
			return nil
		}
	}
}
