package observe

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
)

// TraceparentHeader is the W3C Trace Context header that carries a trace
// from an input record to its outputs and dead letters.
const TraceparentHeader = "traceparent"

// NewTraceparent returns a new W3C traceparent: version 00, a random trace
// id and parent id, sampled.
func NewTraceparent() string { return string(AppendTraceparent(nil)) }

// AppendTraceparent appends a new traceparent to dst: NewTraceparent
// without a string, for a header value.
func AppendTraceparent(dst []byte) []byte {
	var b [24]byte
	for {
		for i := 0; i < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], rand.Uint64())
		}
		if !allZero(b[:16]) && !allZero(b[16:]) {
			break
		}
	}
	dst = append(dst, "00-"...)
	dst = hex.AppendEncode(dst, b[:16])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[16:])
	return append(dst, "-01"...)
}

// ValidTraceparent reports whether s is a traceparent this runner passes
// on: version 00 exactly as specified, or a later version whose first four
// fields parse (the W3C rules for forward compatibility).
func ValidTraceparent(s string) bool {
	if len(s) < 55 {
		return false
	}
	if s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return false
	}
	version, trace, parent, flags := s[0:2], s[3:35], s[36:52], s[53:55]
	if !lowerHex(version) || version == "ff" || !lowerHex(trace) || !lowerHex(parent) || !lowerHex(flags) {
		return false
	}
	if allZeroHex(trace) || allZeroHex(parent) {
		return false
	}
	if version == "00" {
		return len(s) == 55
	}
	return len(s) == 55 || s[55] == '-'
}

func lowerHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allZeroHex(s string) bool {
	for i := range len(s) {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
