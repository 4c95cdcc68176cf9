package codec

import (
	"encoding/binary"
	"math/bits"
)

// plainEnd returns the position of the first byte at or after pos that a
// string cannot hold as it is or that needs a check: the quote, the
// backslash, a control byte or a byte of a multi-byte UTF-8 sequence;
// len(data) if there is none. Most bytes of a record's strings are plain
// ASCII, so it tests eight at a time: a lane is flagged by the borrow of a
// subtraction (a byte under 0x20, or equal to the quote or the backslash
// once they are xored away) or by its top bit. A borrow only ever flags
// more lanes, above a flagged one, so the lowest flag is exact.
func plainEnd(data []byte, pos int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for pos+8 <= len(data) {
		x := binary.LittleEndian.Uint64(data[pos:])
		flags := (x - 0x20*ones) | (x ^ '"'*ones - ones) | (x ^ '\\'*ones - ones) | x
		if flags &= highs; flags != 0 {
			return pos + bits.TrailingZeros64(flags)/8
		}
		pos += 8
	}
	for pos < len(data) && plainASCII[data[pos]] {
		pos++
	}
	return pos
}

// plainASCII holds the bytes a string may hold as they are and that need
// no check: printable ASCII but the quote and the backslash.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
