package importer

import (
	"bytes"
	"fmt"
	"io"

	"incidentmap/incident"
)

// MaxRecordBytes is the most one row of a file may take as written: a CSV
// record, a GeoJSON Feature, a text sequence record. It is the write API's
// body limit, and several times what the largest valid incident needs (its
// text at the field limits, incident.MaxNotesBytes and the rest, even with
// every character escaped). The readers hold one record at a time, so this
// bounds their memory whatever the size of the file.
const MaxRecordBytes = 1 << 20

// errRecordTooLong is the fault of a record over MaxRecordBytes; it says what
// the limits are.
var errRecordTooLong = fmt.Errorf("longer than %d bytes (1 MiB), the most one row may take "+
	"(notes hold at most %d bytes, source_url %d, event_id %d, every other text field %d)",
	MaxRecordBytes, incident.MaxNotesBytes, incident.MaxSourceURLBytes, incident.MaxEventIDBytes, incident.MaxTextBytes)

// jsonGuard sits between a file and a json.Decoder and fails a read when the
// decoder asks for more bytes while the value it is reading, which began at
// the last mark, is already longer than MaxRecordBytes. A json.Decoder
// buffers each value whole, so without it one endless string would be read
// into memory to its end.
type jsonGuard struct {
	r    io.Reader
	read int64 // bytes handed to the decoder
	mark int64 // where the value being decoded began (the decoder's InputOffset)
}

// Read implements io.Reader.
func (g *jsonGuard) Read(p []byte) (int, error) {
	if g.read-g.mark > MaxRecordBytes {
		return 0, errRecordTooLong
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}

// csvGuard sits between a file and a csv.Reader, follows the CSV quoting the
// way encoding/csv reads it, and fails a read when one record passes
// MaxRecordBytes, naming the row and the field. encoding/csv holds each
// record whole, so a 100 MB field would otherwise be read into memory.
type csvGuard struct {
	r       io.Reader
	state   int      // csvFieldStart, csvUnquoted, csvQuoted, csvQuoteSeen
	size    int      // bytes of the current record so far
	field   int      // index of the current field in the record
	content bool     // the record has a byte other than CR and LF (csv skips blank lines)
	records int      // records finished, the header included
	names   []string // the header's column names, once read
	err     error
}

// The states of csvGuard, as in RFC 4180.
const (
	csvFieldStart = iota // at the start of a field: a quote opens a quoted field
	csvUnquoted          // in a plain field
	csvQuoted            // in a quoted field
	csvQuoteSeen         // a quote in a quoted field: a second one is a literal quote
)

// Read implements io.Reader. It runs over every byte of a CSV import, so
// the state lives in locals and quoted text is skipped with IndexByte.
func (g *csvGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	state, size, field, content := g.state, g.size, g.field, g.content
	for i := 0; i < n; i++ {
		if state == csvQuoted {
			// Inside quotes only a quote matters: jump to it.
			j := bytes.IndexByte(p[i:n], '"')
			if j < 0 {
				j = n - i
			} else {
				state = csvQuoteSeen
			}
			size += j + 1
			content = true
			i += j
			if size > MaxRecordBytes {
				break
			}
			continue
		}
		c := p[i]
		size++
		if c != '\r' && c != '\n' {
			content = true
		}
		switch state {
		case csvFieldStart, csvUnquoted:
			switch {
			case c == '"' && state == csvFieldStart:
				state = csvQuoted
			case c == ',':
				state = csvFieldStart
				field++
			case c == '\n':
				if content {
					g.records++
				}
				state, size, field, content = csvFieldStart, 0, 0, false
			default:
				state = csvUnquoted
			}
		case csvQuoteSeen:
			switch c {
			case '"':
				state = csvQuoted
			case ',':
				state = csvFieldStart
				field++
			case '\n':
				if content {
					g.records++
				}
				state, size, field, content = csvFieldStart, 0, 0, false
			default:
				// encoding/csv refuses this record (a quote inside a quoted
				// field) and goes on after the line's end, as we do.
				state = csvUnquoted
			}
		}
		if size > MaxRecordBytes {
			break
		}
	}
	g.state, g.size, g.field, g.content = state, size, field, content
	if size > MaxRecordBytes {
		g.err = g.tooLong()
		// Hand over nothing of this read: the record is refused whole.
		return 0, g.err
	}
	return n, err
}

// tooLong is the error of the current record, naming its row and field.
func (g *csvGuard) tooLong() error {
	if g.records == 0 {
		return fmt.Errorf("the header line is %w", errRecordTooLong)
	}
	field := fmt.Sprintf("field %d", g.field+1)
	if g.field < len(g.names) {
		field = fmt.Sprintf("field %d (%s)", g.field+1, g.names[g.field])
	}
	return &RecordError{Row: g.records, Field: field, Err: errRecordTooLong}
}

// RecordError is a record that could not be read whole (too long); reading
// stops there, since the rest of the record cannot be skipped reliably.
type RecordError struct {
	Row   int    // the data row, from 1
	Field string // where in the row the limit was passed
	Err   error
}

// Error implements error.
func (e *RecordError) Error() string {
	return fmt.Sprintf("row %d is too long at %s: %v", e.Row, e.Field, e.Err)
}

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }
