package cql2

import (
	"fmt"
	"strings"

	"github.com/paulmach/orb"
)

// maxVertices bounds the positions of one filter's geometries, so that a
// long filter cannot make every row's test arbitrarily slow.
const maxVertices = 100_000

// wkt reads a WKT geometry (OGC 06-103r4, as CQL2 text embeds it): POINT,
// LINESTRING, POLYGON, their MULTI forms and GEOMETRYCOLLECTION, 2D or with
// Z (the Z values are dropped: the features here are 2D).
func (p *parser) wkt() (orb.Geometry, error) {
	kw := p.next()
	kind := strings.ToUpper(kw.text)
	if isWord(p.peek(), "Z") {
		p.i++
	} else if isWord(p.peek(), "M", "ZM") {
		return nil, &Error{p.peek().pos, kind + " with M values is not supported"}
	}
	if isWord(p.peek(), "EMPTY") {
		return nil, &Error{p.peek().pos, "EMPTY geometries are not supported"}
	}
	if err := p.enter(kw.pos); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	switch kind {
	case "POINT":
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		pt, err := p.position()
		if err != nil {
			return nil, err
		}
		return pt, p.expectOp(")")
	case "LINESTRING":
		ls, err := p.positions(2)
		return orb.LineString(ls), err
	case "POLYGON":
		return p.polygon()
	case "MULTIPOINT":
		var mp orb.MultiPoint
		err := p.list(func() error {
			// Both MULTIPOINT ((1 2), (3 4)) and MULTIPOINT (1 2, 3 4).
			paren := isOp(p.peek(), "(")
			if paren {
				p.i++
			}
			pt, err := p.position()
			if err != nil {
				return err
			}
			mp = append(mp, pt)
			if paren {
				return p.expectOp(")")
			}
			return nil
		})
		return mp, err
	case "MULTILINESTRING":
		var ml orb.MultiLineString
		err := p.list(func() error {
			ls, err := p.positions(2)
			ml = append(ml, ls)
			return err
		})
		return ml, err
	case "MULTIPOLYGON":
		var mp orb.MultiPolygon
		err := p.list(func() error {
			pg, err := p.polygon()
			mp = append(mp, pg)
			return err
		})
		return mp, err
	case "GEOMETRYCOLLECTION":
		var c orb.Collection
		err := p.list(func() error {
			if !isWord(p.peek(), geometryWords...) {
				return p.unexpected(p.peek(), "a geometry")
			}
			g, err := p.wkt()
			c = append(c, g)
			return err
		})
		return c, err
	}
	return nil, &Error{kw.pos, fmt.Sprintf("unknown geometry type %s", kw.text)}
}

// list reads ( item, item, … ).
func (p *parser) list(item func() error) error {
	if err := p.expectOp("("); err != nil {
		return err
	}
	for {
		if err := item(); err != nil {
			return err
		}
		t := p.next()
		if isOp(t, ")") {
			return nil
		}
		if !isOp(t, ",") {
			return p.unexpected(t, "',' or ')'")
		}
	}
}

// position reads "x y" or "x y z".
func (p *parser) position() (orb.Point, error) {
	x, err := p.signedNumber()
	if err != nil {
		return orb.Point{}, err
	}
	y, err := p.signedNumber()
	if err != nil {
		return orb.Point{}, err
	}
	if t := p.peek(); t.kind == tokNumber || isOp(t, "-") || isOp(t, "+") {
		if _, err := p.signedNumber(); err != nil {
			return orb.Point{}, err
		}
	}
	if p.i > maxVertices*4 {
		return orb.Point{}, &Error{p.peek().pos, fmt.Sprintf("the filter's geometries have more than %d positions", maxVertices)}
	}
	return orb.Point{x, y}, nil
}

// positions reads ( x y, x y, … ) of at least min positions.
func (p *parser) positions(min int) ([]orb.Point, error) {
	start := p.peek().pos
	var out []orb.Point
	err := p.list(func() error {
		pt, err := p.position()
		out = append(out, pt)
		return err
	})
	if err == nil && len(out) < min {
		err = &Error{start, fmt.Sprintf("a line needs at least %d positions", min)}
	}
	return out, err
}

// polygon reads ( ring, ring, … ); each ring is closed with 4 positions or more.
func (p *parser) polygon() (orb.Polygon, error) {
	var pg orb.Polygon
	err := p.list(func() error {
		start := p.peek().pos
		ring, err := p.positions(4)
		if err != nil {
			return err
		}
		if ring[0] != ring[len(ring)-1] {
			return &Error{start, "a polygon ring must end where it starts"}
		}
		pg = append(pg, ring)
		return nil
	})
	return pg, err
}
