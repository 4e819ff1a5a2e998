// Package geo holds incidentmap's geometry and its pure encodings: bbox
// parsing, Web Mercator cells and tiles, point-in-region lookup over the
// governorate polygons, and GeoJSON streaming of incidents. The incident
// itself and its rules live in package incident.
package geo
