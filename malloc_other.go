//go:build !linux || !cgo

package main

// tuneMallocForBulkLoad does nothing off glibc; see malloc_linux.go.
func tuneMallocForBulkLoad() {}
