package export

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"incidentmap/geo"
	"incidentmap/importer"
	"incidentmap/incident"
)

// The CSV is written by hand rather than through encoding/csv, which takes
// a []string per record (a string made for every number) and writes field
// by field into a bufio.Writer. The bytes are encoding/csv's with its
// defaults (comma, LF line ends): a field is quoted when it holds a comma,
// a quote, CR or LF, when it is `\.`, or when it begins with white space;
// quotes inside are doubled. A test compares the two on hostile text.

// csvColumn is how one ACLED column is written.
type csvColumn struct {
	prop int  // index in incident.Props of the field it holds, or -1
	text bool // a free-text column (importer.EscapeCSVText applies)
	kind int  // for prop < 0: csvEmpty, csvYear, csvLat or csvLon
}

// What a column that holds no field holds.
const (
	csvEmpty = iota
	csvYear
	csvLat
	csvLon
)

// csvColumns are importer.ACLEDColumns' writers, made once from the field
// table (the field whose CSV is the column).
var csvColumns = func() []csvColumn {
	out := make([]csvColumn, len(importer.ACLEDColumns))
	for i, col := range importer.ACLEDColumns {
		c := csvColumn{prop: -1, text: importer.IsCSVTextColumn(col)}
		for p, f := range incident.Props {
			if f.CSV == col {
				c.prop = p
			}
		}
		switch col {
		case "year":
			c.kind = csvYear
		case "latitude":
			c.kind = csvLat
		case "longitude":
			c.kind = csvLon
		}
		out[i] = c
	}
	return out
}()

// csvHead is the header record: the column names.
var csvHead = func() []byte {
	var b []byte
	for i, col := range importer.ACLEDColumns {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, col)
	}
	return append(b, '\n')
}()

// appendCSVRow appends inc as one record of importer.ACLEDColumns (see
// writeCSV's description in Write's formats).
func appendCSVRow(dst []byte, inc *incident.Incident, _ int) []byte {
	for i := range csvColumns {
		c := &csvColumns[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		if c.prop >= 0 {
			f := &incident.Props[c.prop]
			if p := f.Int(inc); p != nil {
				if !c.text {
					// Digits and a sign: never quoted.
					dst = strconv.AppendInt(dst, int64(*p), 10)
					continue
				}
				dst = appendCSVField(dst, importer.EscapeCSVText(strconv.Itoa(*p)))
				continue
			}
			s := *f.Text(inc)
			if c.text {
				s = importer.EscapeCSVText(s) // a copy only for formula-like text
			}
			dst = appendCSVField(dst, s)
			continue
		}
		switch c.kind {
		case csvYear:
			if len(inc.EventDate) >= 4 {
				dst = appendCSVField(dst, inc.EventDate[:4])
			}
		case csvLat:
			dst = geo.AppendCoord(dst, inc.Lat)
		case csvLon:
			dst = geo.AppendCoord(dst, inc.Lon)
		}
	}
	return append(dst, '\n')
}

// csvSpecial marks the bytes that make encoding/csv quote a field.
var csvSpecial = func() (t [256]bool) {
	t[','], t['"'], t['\r'], t['\n'] = true, true, true, true
	return t
}()

// appendCSVField appends s as encoding/csv writes a field.
func appendCSVField(dst []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for {
		i := 0
		for i < len(s) && s[i] != '"' {
			i++
		}
		dst = append(dst, s[:i]...)
		if i == len(s) {
			break
		}
		dst = append(dst, '"', '"')
		s = s[i+1:]
	}
	return append(dst, '"')
}

// csvNeedsQuotes is encoding/csv's rule (Writer.fieldNeedsQuotes, comma).
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		if csvSpecial[s[i]] {
			return true
		}
	}
	if s[0] < utf8.RuneSelf {
		// unicode.IsSpace for ASCII.
		switch s[0] {
		case '\t', '\n', '\v', '\f', '\r', ' ':
			return true
		}
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}
