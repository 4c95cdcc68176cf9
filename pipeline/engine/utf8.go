package engine

import (
	"fmt"
	"unicode/utf8"
)

// checkUTF8 fails a value that is not valid UTF-8, which JSON text must
// be (RFC 8259): decoding it would rewrite the bad bytes as U+FFFD, and
// the original would be lost downstream.
func checkUTF8(b []byte) error {
	if utf8.Valid(b) {
		return nil
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Errorf("invalid UTF-8 at byte %d (input.invalid_utf8: replace reads it as U+FFFD instead)", i)
		}
		i += n
	}
	return nil
}
