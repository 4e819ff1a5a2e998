package geo

import (
	"math"
	"strconv"
	"unicode/utf8"

	"incidentmap/incident"
)

// AppendFeature appends inc as an RFC 7946 GeoJSON Feature. It writes bytes by
// hand, not through encoding/json, because it runs once per row of exports of
// millions of rows and reflection would dominate the cost.
func AppendFeature(dst []byte, inc *incident.Incident) []byte {
	dst = append(dst, `{"type":"Feature","id":`...)
	dst = strconv.AppendInt(dst, inc.ID, 10)
	dst = append(dst, `,"geometry":{"type":"Point","coordinates":[`...)
	dst = AppendCoord(dst, inc.Lon)
	dst = append(dst, ',')
	dst = AppendCoord(dst, inc.Lat)
	dst = append(dst, `]},"properties":{`...)
	dst = appendProps(dst, inc)
	return append(dst, "}}"...)
}

// propKeys are the members' openings, `"name":` after a comma but for the
// first, made once from the field table.
var propKeys = func() []string {
	out := make([]string, len(incident.Props))
	for i, f := range incident.Props {
		out[i] = `,"` + f.Name + `":`
	}
	out[0] = out[0][1:]
	return out
}()

// appendProps appends the properties of inc in the field table's order.
func appendProps(dst []byte, inc *incident.Incident) []byte {
	for i := range incident.Props {
		dst = append(dst, propKeys[i]...)
		dst = appendValue(dst, &incident.Props[i], inc)
	}
	return dst
}

// appendValue appends the JSON value of the property f of inc.
func appendValue(dst []byte, f *incident.Field, inc *incident.Incident) []byte {
	if p := f.Int(inc); p != nil {
		return strconv.AppendInt(dst, int64(*p), 10)
	}
	return AppendString(dst, *f.Text(inc))
}

// AppendCoord appends a coordinate with at most 6 decimals and no exponent:
// the shortest decimal that reads back as incident.RoundCoord(v), as
// strconv.AppendFloat(dst, RoundCoord(v), 'f', -1, 64) writes it. That
// decimal is k/10⁶ for k = round(v·10⁶) with its trailing zeros cut: below
// 10¹⁵ (15 digits, which a float64 keeps apart) no other decimal of as
// few digits reads back as the same float. So it is written from the
// integer k, which costs a fraction of the shortest-float search; the rest
// (-0, NaN, huge values) goes through strconv.
func AppendCoord(dst []byte, v float64) []byte {
	k := math.Round(v * 1e6)
	if !(k > -1e15 && k < 1e15) || k == 0 && math.Signbit(k) {
		return strconv.AppendFloat(dst, incident.RoundCoord(v), 'f', -1, 64)
	}
	n := int64(k)
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	dst = strconv.AppendInt(dst, n/1e6, 10)
	if frac := n % 1e6; frac != 0 {
		d := [7]byte{'.'}
		for i := 6; i >= 1; i-- {
			d[i] = byte('0' + frac%10)
			frac /= 10
		}
		end := 7
		for d[end-1] == '0' {
			end--
		}
		dst = append(dst, d[:end]...)
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// plainJSON says which bytes AppendString copies as they are: ASCII but
// control characters, the quote, the backslash and <, >, &.
var plainJSON = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// Byte masks for plainJSONWord.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasByte says whether a byte of x equals c (a byte of x^c·ones is 0:
// subtracting one borrows into its high bit).
func hasByte(x uint64, c byte) uint64 {
	y := x ^ (ones * uint64(c))
	return (y - ones) & ^y
}

// plainJSONWord reports whether all eight bytes of x are plainJSON: none is
// below 0x20 (subtracting 0x20 borrows into its high bit), none has its high
// bit set (not ASCII), none is one of the five escaped characters. A false
// answer may be wrong only for a word that holds such a byte anyway.
func plainJSONWord(x uint64) bool {
	bad := (x-ones*0x20)&^x | x | hasByte(x, '"') | hasByte(x, '\\') | hasByte(x, '<') | hasByte(x, '>') | hasByte(x, '&')
	return bad&highs == 0
}

// AppendString appends s as a JSON string. Like encoding/json it escapes <, >
// and & so that output pasted into HTML cannot close a script element, and it
// replaces invalid UTF-8 with U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Runs of bytes that need no escaping are the common case (a table
		// lookup each: exports of millions of rows spend their encoding
		// time here).
		// Eight bytes at a time while none needs escaping, then byte by byte.
		for i+8 <= len(s) {
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if !plainJSONWord(x) {
				break
			}
			i += 8
		}
		for i < len(s) && plainJSON[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but end lines in JavaScript source.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
