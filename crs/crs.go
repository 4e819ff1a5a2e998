// Package crs holds the coordinate reference systems the API offers (OGC API
// – Features Part 2) and the projections between them and WGS 84 longitude
// and latitude (CRS84), in which incidents are stored: EPSG:4326 (the same
// datum, latitude first), Web Mercator (EPSG:3857) and the UTM zones over
// Iraq (EPSG:32637, 32638, 32639) by the Transverse Mercator series of
// Krüger as given by Karney (2011). It imports only the standard library.
package crs

import (
	"fmt"
	"math"
	"strings"
)

// CRS is one coordinate reference system.
type CRS struct {
	URI   string // the OGC URI clients name it by
	EPSG  int    // EPSG code; 0 for CRS84
	Title string
	// Projected reports coordinates in metres (x east, y north); otherwise
	// they are degrees.
	Projected bool
	// LatFirst reports that the CRS's first axis is latitude (EPSG:4326).
	LatFirst bool
	zone     int // UTM zone (northern hemisphere), 0 when not UTM
}

// The offered systems.
var (
	CRS84 = &CRS{URI: "http://www.opengis.net/def/crs/OGC/1.3/CRS84", Title: "WGS 84 longitude, latitude (the default)"}
	// EPSG4326 is WGS 84 with EPSG's axis order: latitude, then longitude.
	EPSG4326 = &CRS{URI: epsgURI(4326), EPSG: 4326, Title: "WGS 84 latitude, longitude", LatFirst: true}
	// EPSG3857 is Web Mercator (spherical, as web maps use it).
	EPSG3857 = &CRS{URI: epsgURI(3857), EPSG: 3857, Title: "WGS 84 / Pseudo-Mercator", Projected: true}
	UTM37N   = utm(37)
	UTM38N   = utm(38)
	UTM39N   = utm(39)
)

// Offered lists every system the API takes and gives, the default first.
var Offered = []*CRS{CRS84, EPSG4326, EPSG3857, UTM37N, UTM38N, UTM39N}

func epsgURI(code int) string { return fmt.Sprintf("http://www.opengis.net/def/crs/EPSG/0/%d", code) }

func utm(zone int) *CRS {
	code := 32600 + zone
	return &CRS{URI: epsgURI(code), EPSG: code, Title: fmt.Sprintf("WGS 84 / UTM zone %dN", zone), Projected: true, zone: zone}
}

// URIs are the URIs of Offered, for documents that list them.
func URIs() []string {
	out := make([]string, len(Offered))
	for i, c := range Offered {
		out[i] = c.URI
	}
	return out
}

// Lookup finds an offered CRS by its URI, also written as a safe CURIE
// ([EPSG:4326]), a short code (EPSG:4326, OGC:CRS84) or an OGC URN
// (urn:ogc:def:crs:EPSG::4326). The error lists the offer.
func Lookup(s string) (*CRS, error) {
	key := strings.TrimSpace(s)
	key = strings.TrimSuffix(strings.TrimPrefix(key, "["), "]")
	key = strings.TrimPrefix(key, "https://")
	key = strings.TrimPrefix(key, "http://")
	lower := strings.ToLower(key)
	for _, c := range Offered {
		short := "epsg:" + fmt.Sprint(c.EPSG)
		urn := fmt.Sprintf("urn:ogc:def:crs:epsg::%d", c.EPSG)
		if c == CRS84 {
			short, urn = "ogc:crs84", "urn:ogc:def:crs:ogc:1.3:crs84"
		}
		if lower == strings.ToLower(strings.TrimPrefix(c.URI, "http://")) || lower == short || lower == urn {
			return c, nil
		}
	}
	return nil, fmt.Errorf("CRS %q is not offered; use one of: %s", s, strings.Join(URIs(), ", "))
}

// WGS 84 ellipsoid.
const (
	semiMajor  = 6378137.0
	flattening = 1 / 298.257223563
)

// Forward maps WGS 84 longitude and latitude (degrees) to the CRS's
// coordinates in its axis order: (lon, lat) for CRS84, (lat, lon) for
// EPSG:4326, (easting, northing) in metres for the projections. Latitudes
// beyond Web Mercator's ±85.06° clamp to its edge.
func (c *CRS) Forward(lon, lat float64) (float64, float64) {
	switch {
	case c.LatFirst:
		return lat, lon
	case c == EPSG3857:
		lat = math.Max(-85.0511287798066, math.Min(85.0511287798066, lat))
		return semiMajor * lon * math.Pi / 180, semiMajor * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
	case c.zone != 0:
		return tmForward(lon, lat, float64(c.zone*6-183))
	}
	return lon, lat
}

// Inverse maps the CRS's coordinates (in its axis order) back to WGS 84
// longitude and latitude in degrees.
func (c *CRS) Inverse(x, y float64) (lon, lat float64) {
	switch {
	case c.LatFirst:
		return y, x
	case c == EPSG3857:
		return x / semiMajor * 180 / math.Pi, (2*math.Atan(math.Exp(y/semiMajor)) - math.Pi/2) * 180 / math.Pi
	case c.zone != 0:
		return tmInverse(x, y, float64(c.zone*6-183))
	}
	return x, y
}

// UTM constants: scale on the central meridian and false easting (northern
// hemisphere zones have no false northing).
const (
	utmK0       = 0.9996
	utmEasting0 = 500000.0
)

// Krüger series coefficients to n⁴ (Karney 2011, eqs. 14, 35, 36): their
// truncation error is below 0.1 mm within a UTM zone and well beyond it.
var tm = func() (c struct {
	n, rectA          float64
	alpha, beta, dlt  [4]float64
	e, twoSqrtNOver1n float64
}) {
	f := flattening
	n := f / (2 - f)
	n2, n3, n4 := n*n, n*n*n, n*n*n*n
	c.n = n
	c.rectA = semiMajor / (1 + n) * (1 + n2/4 + n4/64)
	c.alpha = [4]float64{n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180, 13*n2/48 - 3*n3/5 + 557*n4/1440, 61*n3/240 - 103*n4/140, 49561 * n4 / 161280}
	c.beta = [4]float64{n/2 - 2*n2/3 + 37*n3/96 - n4/360, n2/48 + n3/15 - 437*n4/1440, 17*n3/480 - 37*n4/840, 4397 * n4 / 161280}
	c.dlt = [4]float64{2*n - 2*n2/3 - 2*n3 + 116*n4/45, 7*n2/3 - 8*n3/5 - 227*n4/45, 56*n3/15 - 136*n4/35, 4279 * n4 / 630}
	c.e = math.Sqrt(f * (2 - f))
	c.twoSqrtNOver1n = 2 * math.Sqrt(n) / (1 + n)
	return c
}()

// tmForward projects to UTM (northern hemisphere) about central meridian lon0.
func tmForward(lon, lat, lon0 float64) (e, n float64) {
	phi := lat * math.Pi / 180
	dl := (lon - lon0) * math.Pi / 180
	s := math.Sin(phi)
	// t = sinh of the conformal latitude's isometric form.
	t := math.Sinh(math.Atanh(s) - tm.twoSqrtNOver1n*math.Atanh(tm.twoSqrtNOver1n*s))
	xi := math.Atan2(t, math.Cos(dl))
	eta := math.Atanh(math.Sin(dl) / math.Sqrt(1+t*t))
	x, y := eta, xi
	for j := 1; j <= 4; j++ {
		a := tm.alpha[j-1]
		k := float64(2 * j)
		x += a * math.Cos(k*xi) * math.Sinh(k*eta)
		y += a * math.Sin(k*xi) * math.Cosh(k*eta)
	}
	return utmEasting0 + utmK0*tm.rectA*x, utmK0 * tm.rectA * y
}

// tmInverse is the inverse of tmForward.
func tmInverse(e, n, lon0 float64) (lon, lat float64) {
	xi := n / (utmK0 * tm.rectA)
	eta := (e - utmEasting0) / (utmK0 * tm.rectA)
	xi1, eta1 := xi, eta
	for j := 1; j <= 4; j++ {
		b := tm.beta[j-1]
		k := float64(2 * j)
		xi1 -= b * math.Sin(k*xi) * math.Cosh(k*eta)
		eta1 -= b * math.Cos(k*xi) * math.Sinh(k*eta)
	}
	chi := math.Asin(math.Sin(xi1) / math.Cosh(eta1))
	phi := chi
	for j := 1; j <= 4; j++ {
		phi += tm.dlt[j-1] * math.Sin(float64(2*j)*chi)
	}
	lambda := math.Atan2(math.Sinh(eta1), math.Cos(xi1))
	return lon0 + lambda*180/math.Pi, phi * 180 / math.Pi
}

// LonLatBox is the longitude/latitude box around the box minX..maxX,
// minY..maxY of c: its edges followed in small steps (a projected straight
// edge is curved in degrees), widened by about a metre for the curve between
// steps. It bounds every point whose coordinates in c lie in the box.
func (c *CRS) LonLatBox(minX, minY, maxX, maxY float64) (minLon, minLat, maxLon, maxLat float64) {
	const steps = 64
	minLon, minLat, maxLon, maxLat = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	add := func(x, y float64) {
		lon, lat := c.Inverse(x, y)
		minLon, maxLon = math.Min(minLon, lon), math.Max(maxLon, lon)
		minLat, maxLat = math.Min(minLat, lat), math.Max(maxLat, lat)
	}
	for k := 0; k <= steps; k++ {
		f := float64(k) / steps
		x := minX + f*(maxX-minX)
		y := minY + f*(maxY-minY)
		add(x, minY)
		add(x, maxY)
		add(minX, y)
		add(maxX, y)
	}
	const margin = 1e-5
	return minLon - margin, minLat - margin, maxLon + margin, maxLat + margin
}
