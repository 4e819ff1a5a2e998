package cql2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb/geojson"
)

// ParseJSON parses a CQL2 JSON filter (filter-lang=cql2-json) into the same
// tree as Parse, geometry literals (GeoJSON geometries and {"bbox": …}) in
// the CRS named by the URI crs ("" is CRS84). Errors are *Error values; as
// JSON has no useful character positions, they name the operator or member
// at fault instead.
func ParseJSON(data []byte, crs string) (Expr, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &Error{0, "the filter is not JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &Error{0, "the filter has data after its JSON value"}
	}
	j := jsonParser{crs: crs}
	return j.expr(v)
}

type jsonParser struct {
	crs   string
	depth int
}

func jerr(format string, a ...any) error { return &Error{0, fmt.Sprintf(format, a...)} }

func (j *jsonParser) enter() error {
	if j.depth++; j.depth > maxDepth {
		return jerr("the filter nests deeper than %d levels", maxDepth)
	}
	return nil
}

// opArgs reads {"op": …, "args": […]}.
func opArgs(v any) (string, []any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", nil, false
	}
	op, ok := m["op"].(string)
	if !ok {
		return "", nil, false
	}
	args, _ := m["args"].([]any)
	return op, args, true
}

func (j *jsonParser) expr(v any) (Expr, error) {
	if err := j.enter(); err != nil {
		return nil, err
	}
	defer func() { j.depth-- }()
	if b, ok := v.(bool); ok {
		return BoolLit{V: b}, nil
	}
	op, args, ok := opArgs(v)
	if !ok {
		return nil, jerr("expected a predicate {\"op\": …, \"args\": […]} or true/false, found %s", describe(v))
	}
	want := func(n int) error {
		if len(args) != n {
			return jerr("%q takes %d arguments, not %d", op, n, len(args))
		}
		return nil
	}
	lop := strings.ToLower(op)
	switch lop {
	case "and", "or":
		if len(args) < 2 {
			return nil, jerr("%q takes 2 arguments or more, not %d", op, len(args))
		}
		var out Expr
		for _, a := range args {
			e, err := j.expr(a)
			if err != nil {
				return nil, err
			}
			switch {
			case out == nil:
				out = e
			case lop == "and":
				out = And{out, e}
			default:
				out = Or{out, e}
			}
		}
		return out, nil
	case "not":
		if err := want(1); err != nil {
			return nil, err
		}
		x, err := j.expr(args[0])
		return Not{x}, err
	case "=", "<>", "<", "<=", ">", ">=":
		if err := want(2); err != nil {
			return nil, err
		}
		l, r, err := j.two(args)
		return Compare{Op: op, L: l, R: r}, err
	case "like":
		if err := want(2); err != nil {
			return nil, err
		}
		l, r, err := j.two(args)
		return Like{X: l, Pattern: r}, err
	case "between":
		if err := want(3); err != nil {
			return nil, err
		}
		var ops [3]Operand
		for i := range ops {
			o, err := j.operand(args[i])
			if err != nil {
				return nil, err
			}
			ops[i] = o
		}
		return Between{X: ops[0], Lo: ops[1], Hi: ops[2]}, nil
	case "in":
		if err := want(2); err != nil {
			return nil, err
		}
		x, err := j.operand(args[0])
		if err != nil {
			return nil, err
		}
		list, ok := args[1].([]any)
		if !ok || len(list) == 0 {
			return nil, jerr("the second argument of \"in\" must be a non-empty array of values")
		}
		in := In{X: x}
		for _, a := range list {
			o, err := j.operand(a)
			if err != nil {
				return nil, err
			}
			in.List = append(in.List, o)
		}
		return in, nil
	case "isnull":
		if err := want(1); err != nil {
			return nil, err
		}
		x, err := j.operand(args[0])
		return IsNull{X: x}, err
	}
	name := strings.ToUpper(op)
	if slices.Contains(SpatialOps, name) || slices.Contains(TemporalOps, name) || slices.Contains(ArrayOps, name) {
		if err := want(2); err != nil {
			return nil, err
		}
		a, b, err := j.two(args)
		if err != nil {
			return nil, err
		}
		switch {
		case slices.Contains(SpatialOps, name):
			return Spatial{Op: name, A: a, B: b}, nil
		case slices.Contains(TemporalOps, name):
			return Temporal{Op: name, A: a, B: b}, nil
		}
		return Array{Op: name, A: a, B: b}, nil
	}
	return nil, jerr("operator %q is not supported as a predicate (and, or, not, =, <>, <, <=, >, >=, like, between, in, isNull, s_…, t_…)", op)
}

func (j *jsonParser) two(args []any) (Operand, Operand, error) {
	a, err := j.operand(args[0])
	if err != nil {
		return nil, nil, err
	}
	b, err := j.operand(args[1])
	return a, b, err
}

func (j *jsonParser) operand(v any) (Operand, error) {
	if err := j.enter(); err != nil {
		return nil, err
	}
	defer func() { j.depth-- }()
	switch x := v.(type) {
	case string:
		return StringLit{V: x}, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, jerr("%s is not a number", x)
		}
		isInt := !strings.ContainsAny(x.String(), ".eE") && math.Abs(f) < 1<<53
		return NumberLit{V: f, Int: isInt}, nil
	case bool:
		return BoolLit{V: x}, nil
	case []any:
		arr := ArrayLit{}
		for _, it := range x {
			o, err := j.operand(it)
			if err != nil {
				return nil, err
			}
			arr.Items = append(arr.Items, o)
		}
		return arr, nil
	case map[string]any:
		return j.object(x)
	}
	return nil, jerr("expected a value, found %s", describe(v))
}

func (j *jsonParser) object(m map[string]any) (Operand, error) {
	if p, ok := m["property"]; ok {
		name, ok := p.(string)
		if !ok {
			return nil, jerr("\"property\" must be a name")
		}
		return Property{Name: name}, nil
	}
	if d, ok := m["date"]; ok {
		s, _ := d.(string)
		return instant("DATE", s, 0, 0)
	}
	if t, ok := m["timestamp"]; ok {
		s, _ := t.(string)
		return instant("TIMESTAMP", s, 0, 0)
	}
	if iv, ok := m["interval"]; ok {
		ends, ok := iv.([]any)
		if !ok || len(ends) != 2 {
			return nil, jerr("\"interval\" must be an array of a start and an end")
		}
		var out [2]Operand
		for i, e := range ends {
			if s, ok := e.(string); ok {
				o, err := intervalEndOf(s, 0)
				if err != nil {
					return nil, err
				}
				out[i] = o
				continue
			}
			o, err := j.operand(e)
			if err != nil {
				return nil, err
			}
			switch o.(type) {
			case Property, DateLit, TimestampLit:
			default:
				return nil, jerr("an interval end is a date or date-time text, \"..\", {\"date\"}, {\"timestamp\"} or {\"property\"}")
			}
			out[i] = o
		}
		return Interval{Start: out[0], End: out[1]}, nil
	}
	if b, ok := m["bbox"]; ok {
		nums, ok := b.([]any)
		if !ok {
			return nil, jerr("\"bbox\" must be an array of 4 or 6 numbers")
		}
		var parts []string
		for _, n := range nums {
			jn, ok := n.(json.Number)
			if !ok {
				return nil, jerr("\"bbox\" must be an array of 4 or 6 numbers")
			}
			parts = append(parts, jn.String())
		}
		// One reader of boxes for both encodings.
		p, err := lexParser("BBOX(" + strings.Join(parts, ",") + ")")
		if err != nil {
			return nil, err
		}
		p.crs = j.crs
		o, err := p.bbox()
		if err != nil {
			return nil, &Error{0, err.(*Error).Msg}
		}
		return o, nil
	}
	if _, ok := m["type"]; ok {
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, jerr("geometry: %v", err)
		}
		g, err := geojson.UnmarshalGeometry(raw)
		if err != nil {
			return nil, jerr("not a GeoJSON geometry: %v", err)
		}
		if g.Coordinates == nil {
			return nil, jerr("a GeoJSON geometry without coordinates")
		}
		return Geometry{G: g.Coordinates, CRS: j.crs}, nil
	}
	if op, args, ok := opArgs(m); ok {
		switch up := strings.ToUpper(op); up {
		case "+", "-", "*", "/", "%", "^", "DIV":
			if len(args) != 2 {
				return nil, jerr("%q takes 2 arguments, not %d", op, len(args))
			}
			l, r, err := j.two(args)
			return Arith{Op: up, L: l, R: r}, err
		case "CASEI", "ACCENTI":
			op = up
		}
		f := Func{Name: op}
		for _, a := range args {
			o, err := j.operand(a)
			if err != nil {
				return nil, err
			}
			f.Args = append(f.Args, o)
		}
		return f, nil
	}
	return nil, jerr("expected a value, found %s", describe(m))
}

// lexParser is a parser over the tokens of s.
func lexParser(s string) (*parser, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	return &parser{toks: toks}, nil
}

func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 60 {
		return fmt.Sprintf("a JSON %T", v)
	}
	return string(b)
}
