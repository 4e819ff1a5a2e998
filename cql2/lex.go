// Package cql2 parses OGC Common Query Language (CQL2) text — Basic CQL2
// plus S_INTERSECTS with a BBOX — into an expression tree, and translates a
// tree into parameterised SQL over a closed vocabulary of columns. It knows
// nothing of HTTP or of any one table: the caller says which properties exist
// and which columns hold them.
package cql2

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a fault in a filter, at a character position (1-based) of the text.
type Error struct {
	Pos int // 1-based position in characters; 0 when it concerns the whole text
	Msg string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Pos <= 0 {
		return e.Msg
	}
	return fmt.Sprintf("at character %d: %s", e.Pos, e.Msg)
}

type tokKind int

const (
	tokEOF    tokKind = iota
	tokIdent          // a bare word: property, keyword or function name
	tokQuoted         // a "double-quoted" property name
	tokString         // a 'single-quoted' literal
	tokNumber
	tokOp // = <> < <= > >= ( ) , + - * / % ^
)

type token struct {
	kind tokKind
	text string // the word, the unquoted string, the number or the operator
	pos  int    // 1-based character position
}

// lex splits s into tokens.
func lex(s string) ([]token, error) {
	var toks []token
	pos := 1 // character position of s[i]
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			return nil, &Error{pos, "the text is not valid UTF-8"}
		}
		start := pos
		switch {
		case unicode.IsSpace(r):
			i += w
			pos++
		case r == '\'' || r == '"':
			var b strings.Builder
			j, p := i+1, pos+1
			closed := false
			for j < len(s) {
				r2, w2 := utf8.DecodeRuneInString(s[j:])
				if r2 == utf8.RuneError && w2 == 1 {
					return nil, &Error{p, "the text is not valid UTF-8"}
				}
				if r2 == r {
					if j+1 < len(s) && rune(s[j+1]) == r { // doubled quote
						b.WriteRune(r)
						j += 2
						p += 2
						continue
					}
					j++
					p++
					closed = true
					break
				}
				b.WriteRune(r2)
				j += w2
				p++
			}
			if !closed {
				return nil, &Error{start, "quote " + string(r) + " is not closed"}
			}
			kind := tokString
			if r == '"' {
				kind = tokQuoted
			}
			toks = append(toks, token{kind, b.String(), start})
			i, pos = j, p
		case r >= '0' && r <= '9' || r == '.' || ((r == '-' || r == '+') && !endsOperand(toks) && i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '.')):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				((s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			toks = append(toks, token{tokNumber, s[i:j], start})
			pos += j - i
			i = j
		case unicode.IsLetter(r) || r == '_':
			j := i
			n := 0
			for j < len(s) {
				r2, w2 := utf8.DecodeRuneInString(s[j:])
				if !(unicode.IsLetter(r2) || unicode.IsDigit(r2) || r2 == '_' || r2 == ':' || r2 == '.') {
					break
				}
				j += w2
				n++
			}
			toks = append(toks, token{tokIdent, s[i:j], start})
			i = j
			pos += n
		default:
			op := string(r)
			if (r == '<' || r == '>') && i+1 < len(s) && (s[i+1] == '=' || (r == '<' && s[i+1] == '>')) {
				op = s[i : i+2]
			}
			switch op {
			case "=", "<>", "<", "<=", ">", ">=", "(", ")", ",", "+", "-", "*", "/", "%", "^":
			default:
				return nil, &Error{start, fmt.Sprintf("unexpected character %q", r)}
			}
			toks = append(toks, token{tokOp, op, start})
			i += len(op)
			pos += len(op)
		}
	}
	return append(toks, token{tokEOF, "", pos}), nil
}

// endsOperand reports whether the last token can end an operand, so that a
// following + or - is arithmetic ("foo"-10) rather than a number's sign.
func endsOperand(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	t := toks[len(toks)-1]
	switch t.kind {
	case tokNumber, tokString, tokQuoted:
		return true
	case tokOp:
		return t.text == ")"
	case tokIdent:
		return !isWord(t, keywords...)
	}
	return false
}
