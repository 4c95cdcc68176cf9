package observe

import (
	"strconv"
	"unicode/utf8"
)

// maxKeyText bounds a record key shown among the recent errors.
const maxKeyText = 80

// shownKey is a record key as the status page shows it: quoted (a key is
// bytes), cut to maxKeyText; "" for no key.
func shownKey(key []byte) string {
	if key == nil {
		return ""
	}
	k := key
	cut := len(k) > maxKeyText
	if cut {
		k = k[:maxKeyText]
		for len(k) > 0 && !utf8.Valid(k) {
			k = k[:len(k)-1]
		}
	}
	s := strconv.Quote(string(k))
	if cut {
		s += "…"
	}
	return s
}
