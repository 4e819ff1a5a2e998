package importer

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// BenchmarkCSVGuard is the guard's own cost per byte of a CSV (quoted notes
// with commas, as ACLED writes them).
func BenchmarkCSVGuard(b *testing.B) {
	row := `IRQ1,2021-05-08,Explosions/Remote violence,Air/drone strike,Unidentified Armed Group (Iraq),,Anbar,Ain al-Asad airbase,33.8,42.44,0,Media,"On 8 May 2021, two drones were shot down over the base; no casualties, no damage."` + "\n"
	data := []byte(strings.Repeat(row, 20000))
	b.SetBytes(int64(len(data)))
	buf := make([]byte, 4096)
	for b.Loop() {
		g := &csvGuard{r: bytes.NewReader(data)}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{g}, buf); err != nil {
			b.Fatal(err)
		}
	}
}
