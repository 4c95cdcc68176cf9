package observe

import (
	"strings"
	"testing"
)

func TestShownKey(t *testing.T) {
	long := strings.Repeat("é", maxKeyText) // two bytes a rune: cut inside one
	for _, c := range []struct {
		key  []byte
		want string
	}{
		{nil, ""},
		{[]byte{}, `""`},
		{[]byte("user-1"), `"user-1"`},
		{[]byte{0xff, 'a'}, `"\xffa"`},
		{[]byte(long), `"` + strings.Repeat("é", maxKeyText/2) + `"…`},
	} {
		if got := shownKey(c.key); got != c.want {
			t.Errorf("shownKey(%q) = %s, want %s", c.key, got, c.want)
		}
	}
}
