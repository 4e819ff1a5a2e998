package importer

import (
	"encoding/binary"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small JSON scanner over bytes for the feature decoder. It
// accepts exactly what encoding/json accepts (same whitespace, escapes, number
// grammar and nesting limit), so that a feature is rejected as broken JSON in
// the same cases as before; the wording of such errors is still taken from
// encoding/json itself (see syntaxError).

// maxDepth is encoding/json's nesting limit: deeper input is a syntax error there.
const maxDepth = 10000

// strPlain marks the bytes a JSON string may hold that need no further look:
// printable ASCII other than the quote and the backslash.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Flags a string scan reports about its contents.
const (
	strEscaped = 1 << iota // holds a backslash escape
	strHigh                // holds a byte ≥ 0x80 (maybe invalid UTF-8)
)

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// nextMember moves past what follows a member of an object or an element of
// an array (closer '}' or ']'): to the start of the next one (more is true),
// or past the closer (more is false). i is -1 when neither follows.
func nextMember(b []byte, i int, closer byte) (next int, more bool) {
	if i = skipWS(b, i); i >= len(b) {
		return -1, false
	}
	switch b[i] {
	case ',':
		return skipWS(b, i+1), true
	case closer:
		return i + 1, false
	}
	return -1, false
}

// scanString reads the string whose opening quote is b[i]. It returns the
// index after the closing quote and strEscaped/strHigh flags, or -1 when the
// string is not valid JSON.
func scanString(b []byte, i int) (end int, flags uint8) {
	i++
	for i < len(b) {
		// Eight bytes at a time while none needs a look: most of a feature
		// is plain text inside strings.
		for i+8 <= len(b) && plain8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case strPlain[c]:
			i++
		case c == '"':
			return i + 1, flags
		case c == '\\':
			flags |= strEscaped
			if i+1 >= len(b) {
				return -1, flags
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hex4(b[i+2:i+6]) < 0 {
					return -1, flags
				}
				i += 6
			default:
				return -1, flags
			}
		case c < 0x20:
			return -1, flags
		default:
			flags |= strHigh
			i++
		}
	}
	return -1, flags
}

// plain8 reports whether none of the eight bytes in x is a quote, a
// backslash, a control byte or ≥ 0x80 (the bit tricks may flag a plain word,
// which then only takes the byte-wise path; they never pass a special one).
func plain8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	ctl := (x - 0x20*ones) &^ x // high bit set where a byte < 0x20 (or ≥ 0x80)
	quote := (x ^ '"'*ones - ones) &^ (x ^ '"'*ones)
	bslash := (x ^ '\\'*ones - ones) &^ (x ^ '\\'*ones)
	return (ctl|quote|bslash|x)&highs == 0
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber reads the number starting at b[i] and returns the index after
// it, or -1 when it breaks JSON's number grammar.
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	return i
}

// overflows reports whether a valid JSON number literal is out of float64's
// range, which encoding/json rejects when it decodes the number into an any.
func overflows(lit []byte) bool {
	if len(lit) < 300 {
		plain := true
		for _, c := range lit {
			if c == 'e' || c == 'E' {
				plain = false
				break
			}
		}
		if plain {
			return false // fewer than 300 digits and no exponent: below 1e300
		}
	}
	_, err := strconv.ParseFloat(string(lit), 64)
	return err != nil
}

func hasLiteral(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// skipValue reads the value starting at b[i] whose enclosing containers are
// depth deep, and returns the index after it, or -1 when it is not valid
// JSON. When num is not nil, the first number literal out of float64's range
// is recorded there (if none was recorded yet).
func skipValue(b []byte, i, depth int, num *span) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := scanString(b, i)
		return end
	case '{':
		if depth++; depth > maxDepth {
			return -1
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			if i, _ = scanString(b, i); i < 0 {
				return -1
			}
			if i = skipWS(b, i); i >= len(b) || b[i] != ':' {
				return -1
			}
			if i = skipValue(b, skipWS(b, i+1), depth, num); i < 0 {
				return -1
			}
			more := false
			if i, more = nextMember(b, i, '}'); !more {
				return i
			}
		}
	case '[':
		if depth++; depth > maxDepth {
			return -1
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = skipValue(b, i, depth, num); i < 0 {
				return -1
			}
			more := false
			if i, more = nextMember(b, i, ']'); !more {
				return i
			}
		}
	case 't':
		if hasLiteral(b, i, "true") {
			return i + 4
		}
	case 'f':
		if hasLiteral(b, i, "false") {
			return i + 5
		}
	case 'n':
		if hasLiteral(b, i, "null") {
			return i + 4
		}
	default:
		end := scanNumber(b, i)
		if end > 0 && num != nil && num.hi == 0 && overflows(b[i:end]) {
			*num = span{lo: i, hi: end}
		}
		return end
	}
	return -1
}

// firstElem returns the start of the first element (or member key) of the
// valid array (or object) opening at b[i], or -1 when it is empty.
func firstElem(b []byte, i int) int {
	i = skipWS(b, i+1)
	if b[i] == ']' || b[i] == '}' {
		return -1
	}
	return i
}

// nextElem returns the start of the element (or member key) after the one
// that ended at b[end], or -1 after the last one, in a valid array (or object).
func nextElem(b []byte, end int) int {
	i := skipWS(b, end)
	if b[i] == ',' {
		return skipWS(b, i+1)
	}
	return -1
}

// valueAfterKey returns the start of a member's value given the end of its key.
func valueAfterKey(b []byte, keyEnd int) int {
	return skipWS(b, skipWS(b, keyEnd)+1)
}

// unquote decodes the contents of a valid JSON string (between the quotes)
// the way encoding/json does: escapes resolved, a lone or broken surrogate
// and every byte of invalid UTF-8 replaced by U+FFFD.
func unquote(c []byte) string {
	out := make([]byte, 0, len(c))
	for i := 0; i < len(c); {
		ch := c[i]
		switch {
		case ch == '\\':
			switch c[i+1] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(c[i+2 : i+6])
				i += 6
				if utf16.IsSurrogate(r) {
					// A pair only when a second \u escape follows and completes it.
					if i+6 <= len(c) && c[i] == '\\' && c[i+1] == 'u' {
						if r2 := hex4(c[i+2 : i+6]); r2 >= 0 {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								out = utf8.AppendRune(out, dec)
								i += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // '"', '\\', '/'
				out = append(out, c[i+1])
			}
			i += 2
		case ch < utf8.RuneSelf:
			out = append(out, ch)
			i++
		default:
			r, size := utf8.DecodeRune(c[i:])
			out = utf8.AppendRune(out, r)
			i += size
		}
	}
	return string(out)
}
