package codec

import (
	"math/rand/v2"
	"testing"
)

// plainEndBytewise is plainEnd one byte at a time.
func plainEndBytewise(data []byte, pos int) int {
	for pos < len(data) && plainASCII[data[pos]] {
		pos++
	}
	return pos
}

// TestPlainEnd: every byte value at every place of an eight-byte lane and
// of the tail, and random strings rich in the bytes that stop it.
func TestPlainEnd(t *testing.T) {
	for b := range 256 {
		for at := range 19 {
			data := []byte("abcdefghijklmnopqrs")
			data[at] = byte(b)
			for from := range at + 1 {
				if got, want := plainEnd(data, from), plainEndBytewise(data, from); got != want {
					t.Fatalf("plainEnd(%q, %d) = %d, want %d", data, from, got, want)
				}
			}
		}
	}
	alphabet := []byte("a~ \x1f\x00\"\\\x7f\x80\xff!#[]")
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		data := make([]byte, r.IntN(40))
		for i := range data {
			data[i] = alphabet[r.IntN(len(alphabet))]
		}
		if got, want := plainEnd(data, 0), plainEndBytewise(data, 0); got != want {
			t.Fatalf("plainEnd(%q) = %d, want %d", data, got, want)
		}
	}
}
