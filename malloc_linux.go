//go:build linux && cgo

package main

/*
#include <malloc.h>

static void tune_malloc_for_bulk_load(void) {
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
}
*/
import "C"

// tuneMallocForBulkLoad stops glibc from handing SQLite's freed page and
// journal memory back to the kernel after every statement of a bulk load.
// Each return is a madvise or brk with a TLB flush across CPUs, which on a
// virtual machine cost three times the load itself (measured: 10,000 rows in
// 7.6 s before, 2.4 s after). Only gen and import call it; serve keeps glibc's
// defaults.
func tuneMallocForBulkLoad() { C.tune_malloc_for_bulk_load() }
