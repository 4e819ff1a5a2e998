package store

// ForgetCaches empties the store's caches of counts and aggregations, so a
// benchmark times the queries themselves.
func (s *SQLite) ForgetCaches() {
	s.counts.forget()
	s.aggregates.forget()
	s.rolled.forget()
	s.regionStats.forget()
}

func (c *versionCache[V]) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey = nil
	c.version = -1
}

// RegionPairSeeks are the statements distinctPairs steps from one stored
// (admin1, region) pair to the next with, each taking the last pair's
// admin1 (and region, for the first).
var RegionPairSeeks = []string{nextRegionOfGovernorate, firstPairOfNextGovernorate}

// WriterCacheSize is the writer connection's PRAGMA cache_size.
func (s *SQLite) WriterCacheSize() (int, error) {
	var n int
	err := s.db.QueryRow("PRAGMA cache_size").Scan(&n)
	return n, err
}
