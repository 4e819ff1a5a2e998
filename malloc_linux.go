//go:build linux && cgo

package main

/*
#include <malloc.h>

static void trim_malloc(void) { malloc_trim(0); }

static void tune_malloc_for_bulk_load(void) {
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
}
*/
import "C"

import (
	"context"
	"time"
)

// tuneMallocForBulkLoad stops glibc from handing SQLite's freed page and
// journal memory back to the kernel after every statement of a bulk load.
// Each return is a madvise or brk with a TLB flush across CPUs, which on a
// virtual machine cost three times the load itself (measured: 10,000 rows in
// 7.6 s before, 2.4 s after). Only gen and import call it; serve keeps glibc's
// defaults.
func tuneMallocForBulkLoad() { C.tune_malloc_for_bulk_load() }

// trimMallocEvery hands the memory glibc keeps after SQLite freed it back to
// the kernel every d until ctx ends. SQLite allocates from every thread the
// read pool runs on, so glibc keeps an arena per thread, and freed pages in
// the middle of an arena stay resident: 4–8 MB of a serving process's
// resident set that neither Go nor SQLite holds. malloc_trim returns them
// (madvise) at a cost of well under a millisecond.
func trimMallocEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			C.trim_malloc()
		}
	}
}
