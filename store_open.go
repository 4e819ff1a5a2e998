package main

import (
	"context"
	"fmt"

	"incidentmap/geo"
	"incidentmap/seed"
	"incidentmap/store"
)

// openStore opens the database with the embedded governorate boundaries, so
// that the regions table is loaded and every write assigns admin1 from the
// point when the source gives none. Every command that opens the store uses it.
func openStore(ctx context.Context, path string) (*store.SQLite, error) {
	rs, err := geo.ParseRegions(seed.RegionsGeoJSON)
	if err != nil {
		return nil, fmt.Errorf("embedded region boundaries: %w", err)
	}
	return store.Open(ctx, path, store.WithRegions(rs))
}
