package postgis

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// rawScanner reads the incident rows of a page or an export straight from
// the wire values instead of through pgx's Scan: pgx allocates a string for
// each of an incident's fifteen text columns and walks its scan plans for
// every value, which was a fifth of the server's CPU on uncached pages.
// Here a row's text is copied into one string and each field is a slice of
// it (one allocation a row; the strings are ordinary, immutable Go
// strings), and numbers are decoded from their binary or text form by the
// column's type. A result whose columns it does not know is left to Scan.
type rawScanner struct {
	kinds []rawKind
	buf   []byte // a row's text, concatenated
	ends  []int  // where each text column's value ends in buf
}

// rawKind is how one column is decoded.
type rawKind uint8

const (
	rawText rawKind = iota
	rawInt16
	rawInt32
	rawInt64
	rawFloat32
	rawFloat64
	rawNumberText // an integer or float column sent as text
)

// intSize is the binary size of each integer kind.
var intSize = [...]int{rawInt16: 2, rawInt32: 4, rawInt64: 8}

// newRawScanner returns a scanner for rows with columns fds into dest (the
// targets incident.ScanTargets makes: *string, *int, *int64, *float64), or
// nil when a column's type or target is not one it decodes.
func newRawScanner(fds []pgconn.FieldDescription, dest []any) *rawScanner {
	if len(fds) != len(dest) {
		return nil
	}
	s := &rawScanner{kinds: make([]rawKind, len(fds))}
	for i, fd := range fds {
		binary := fd.Format == pgtype.BinaryFormatCode
		var k rawKind
		switch fd.DataTypeOID {
		case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID:
			k = rawText
		case pgtype.Int2OID:
			k = rawInt16
		case pgtype.Int4OID:
			k = rawInt32
		case pgtype.Int8OID:
			k = rawInt64
		case pgtype.Float4OID:
			k = rawFloat32
		case pgtype.Float8OID:
			k = rawFloat64
		default:
			return nil
		}
		if k != rawText && !binary {
			k = rawNumberText
		}
		switch dest[i].(type) {
		case *string:
			if k != rawText {
				return nil
			}
		case *int, *int64:
			if k == rawText || k == rawFloat32 || k == rawFloat64 {
				return nil
			}
		case *float64:
			if k == rawText {
				return nil
			}
		default:
			return nil
		}
		s.kinds[i] = k
	}
	return s
}

// scan decodes one row's raw values into dest.
func (s *rawScanner) scan(fds []pgconn.FieldDescription, raw [][]byte, dest []any) error {
	if len(raw) != len(s.kinds) {
		return fmt.Errorf("row of %d values for %d columns", len(raw), len(s.kinds))
	}
	s.buf, s.ends = s.buf[:0], s.ends[:0]
	for i, v := range raw {
		if v == nil {
			return fmt.Errorf("column %s is NULL", fds[i].Name)
		}
		if s.kinds[i] == rawText {
			s.buf = append(s.buf, v...)
			s.ends = append(s.ends, len(s.buf))
		}
	}
	text := string(s.buf)
	start, t := 0, 0
	for i, v := range raw {
		k := s.kinds[i]
		if k == rawText {
			end := s.ends[t]
			*dest[i].(*string) = text[start:end]
			start = end
			t++
			continue
		}
		var n int64
		var f float64
		isFloat := false
		switch k {
		case rawInt16, rawInt32, rawInt64:
			if len(v) != intSize[k] {
				return fmt.Errorf("column %s: %d bytes for its integer", fds[i].Name, len(v))
			}
			switch k {
			case rawInt16:
				n = int64(int16(binary.BigEndian.Uint16(v)))
			case rawInt32:
				n = int64(int32(binary.BigEndian.Uint32(v)))
			default:
				n = int64(binary.BigEndian.Uint64(v))
			}
		case rawFloat32:
			if len(v) != 4 {
				return fmt.Errorf("column %s: %d bytes for its float4", fds[i].Name, len(v))
			}
			f, isFloat = float64(math.Float32frombits(binary.BigEndian.Uint32(v))), true
		case rawFloat64:
			if len(v) != 8 {
				return fmt.Errorf("column %s: %d bytes for its float8", fds[i].Name, len(v))
			}
			f, isFloat = math.Float64frombits(binary.BigEndian.Uint64(v)), true
		case rawNumberText:
			if _, ok := dest[i].(*float64); ok {
				var err error
				if f, err = strconv.ParseFloat(string(v), 64); err != nil {
					return fmt.Errorf("column %s: %w", fds[i].Name, err)
				}
				isFloat = true
			} else {
				var err error
				if n, err = strconv.ParseInt(string(v), 10, 64); err != nil {
					return fmt.Errorf("column %s: %w", fds[i].Name, err)
				}
			}
		}
		switch d := dest[i].(type) {
		case *int:
			*d = int(n)
		case *int64:
			*d = n
		case *float64:
			if !isFloat {
				f = float64(n)
			}
			*d = f
		}
	}
	return nil
}
