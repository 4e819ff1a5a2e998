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
