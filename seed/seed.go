// Package seed carries the data incidentmap starts with, embedded in the
// binary: the seed incidents (the 2020–2021 attacks on al-Asad Airbase, Baghdad
// airport and Erbil, from the project's seed notes) and Iraq's governorate
// boundaries.
package seed

import _ "embed"

// IncidentsGeoJSON is the seed set as a GeoJSON FeatureCollection of 13
// incidents. Its facts come from the seed article (a May 2021 news report citing
// CNN, KDRV and the Times of Israel) and the attacks it refers to; see README.
//
//go:embed incidents.geojson
var IncidentsGeoJSON []byte

// RegionsGeoJSON is a FeatureCollection of Iraq's 18 governorates as Natural
// Earth 1:10m draws them (public domain), simplified with shared borders kept
// identical; scripts/regions writes it (make regions). Properties:
// iso_3166_2, name (as ACLED spells it), name_source (Natural Earth's), region.
//
//go:embed regions.geojson
var RegionsGeoJSON []byte
