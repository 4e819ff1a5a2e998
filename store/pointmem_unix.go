//go:build unix

package store

import (
	"syscall"
	"unsafe"
)

// allocPoints returns room for n tile points outside the Go heap: an
// anonymous mapping, resident only as far as it is written, and not counted
// by the garbage collector, whose heap would otherwise grow to twice the
// points before collecting (GOGC): 24 MB a million rows, not 48 or more.
func allocPoints(n int) ([]tilePoint, func()) {
	size := n * int(unsafe.Sizeof(tilePoint{}))
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]tilePoint, 0, n), func() {}
	}
	pts := unsafe.Slice((*tilePoint)(unsafe.Pointer(&mem[0])), n)[:0]
	return pts, func() { syscall.Munmap(mem) }
}
