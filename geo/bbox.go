package geo

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// ParseBBox parses an OGC API bbox: "minLon,minLat,maxLon,maxLat" or, with
// heights, "minLon,minLat,minZ,maxLon,maxLat,maxZ" (heights are ignored: the
// incidents are 2D). Coordinates are CRS84 longitude/latitude. A minimum
// longitude east of the maximum is a box across the antimeridian, as OGC API
// – Features (7.15.3) defines it: 170,-10,-170,10 spans the 20° around ±180.
// It comes back as given, with Min[0] > Max[0]; SplitBBox cuts it in two.
func ParseBBox(s string) (orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return orb.Bound{}, fmt.Errorf("bbox needs 4 or 6 comma-separated numbers, got %d", len(parts))
	}
	nums := make([]float64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return orb.Bound{}, fmt.Errorf("bbox value %d (%q) is not a finite number", i+1, p)
		}
		nums[i] = v
	}
	minLon, minLat, maxLon, maxLat := nums[0], nums[1], nums[2], nums[3]
	if len(nums) == 6 {
		maxLon, maxLat = nums[3], nums[4]
		if nums[2] > nums[5] {
			return orb.Bound{}, fmt.Errorf("bbox minimum height %v is above maximum height %v", nums[2], nums[5])
		}
	}
	for _, lon := range []float64{minLon, maxLon} {
		if lon < -180 || lon > 180 {
			return orb.Bound{}, fmt.Errorf("bbox longitude %v is outside -180..180", lon)
		}
	}
	for _, lat := range []float64{minLat, maxLat} {
		if lat < -90 || lat > 90 {
			return orb.Bound{}, fmt.Errorf("bbox latitude %v is outside -90..90", lat)
		}
	}
	if minLat > maxLat {
		return orb.Bound{}, fmt.Errorf("bbox minimum latitude %v is above maximum latitude %v", minLat, maxLat)
	}
	return orb.Bound{Min: orb.Point{minLon, minLat}, Max: orb.Point{maxLon, maxLat}}, nil
}

// CrossesAntimeridian reports whether a box parsed by ParseBBox wraps
// around ±180° (its minimum longitude is east of its maximum).
func CrossesAntimeridian(b orb.Bound) bool { return b.Min[0] > b.Max[0] }

// SplitBBox returns b as ordinary boxes: b itself, or for a box across the
// antimeridian its western part (minLon..180) and its eastern part
// (-180..maxLon).
func SplitBBox(b orb.Bound) []orb.Bound {
	if !CrossesAntimeridian(b) {
		return []orb.Bound{b}
	}
	return []orb.Bound{
		{Min: orb.Point{b.Min[0], b.Min[1]}, Max: orb.Point{180, b.Max[1]}},
		{Min: orb.Point{-180, b.Min[1]}, Max: orb.Point{b.Max[0], b.Max[1]}},
	}
}
