//go:build !unix

package store

// allocPoints returns room for n tile points; see pointmem_unix.go.
func allocPoints(n int) ([]tilePoint, func()) { return make([]tilePoint, 0, n), func() {} }
