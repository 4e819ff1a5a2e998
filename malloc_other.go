//go:build !linux || !cgo

package main

import (
	"context"
	"time"
)

// tuneMallocForBulkLoad does nothing off glibc; see malloc_linux.go.
func tuneMallocForBulkLoad() {}

// trimMallocEvery does nothing off glibc; see malloc_linux.go.
func trimMallocEvery(context.Context, time.Duration) {}
