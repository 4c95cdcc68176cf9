// Package offsets turns positions given on the command line (oldest,
// newest, offset:N, P:O,..., time:RFC3339, group:NAME) into offsets of a
// topic's partitions, checked against what the brokers hold; and it shows
// and resets a consumer group's committed offsets.
//
// A position never silently moves: an offset below a partition's log start
// or beyond its end is an error (*OutOfRangeError), not a reset to the
// nearest valid one.
package offsets

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind says how a Spec picks offsets.
type Kind int

// The kinds of position.
const (
	// Oldest is each partition's log start.
	Oldest Kind = iota
	// Newest is each partition's end offset (high watermark), read once.
	Newest
	// Offset is the same offset on every partition.
	Offset
	// PerPartition lists an offset per partition; other partitions are
	// not selected (as a start) or end at their end offset (as an end).
	PerPartition
	// Time is the first record with a timestamp at or after Spec.Time.
	Time
	// Group is the committed offsets of the consumer group Spec.Group.
	Group
)

// Spec is a parsed position.
type Spec struct {
	Kind       Kind
	Offset     int64           // Offset
	Partitions map[int32]int64 // PerPartition
	Time       time.Time       // Time
	Group      string          // Group
	Text       string          // as given
}

func (s Spec) String() string { return s.Text }

// What a flag accepts.
const (
	startSyntax = "oldest, newest, offset:N, P:O[,P:O...], time:RFC3339 or group:NAME"
	endSyntax   = "end, offset:N, P:O[,P:O...] or time:RFC3339"
	resetSyntax = "oldest, newest, offset:N, P:O[,P:O...] or time:RFC3339"
)

// SyntaxError is a position that does not parse.
type SyntaxError struct {
	Flag, Value, Accepts, Reason string
}

func (e *SyntaxError) Error() string {
	msg := fmt.Sprintf("%s %q", e.Flag, e.Value)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg + "; use " + e.Accepts
}

// ParseStart parses where a range begins: oldest, newest, offset:N,
// P:O[,P:O...], time:RFC3339 or group:NAME.
func ParseStart(flag, s string) (Spec, error) {
	if s == "oldest" {
		return Spec{Kind: Oldest, Text: s}, nil
	}
	if s == "newest" {
		return Spec{Kind: Newest, Text: s}, nil
	}
	if name, ok := strings.CutPrefix(s, "group:"); ok {
		if name == "" {
			return Spec{}, &SyntaxError{flag, s, startSyntax, "the group name is empty"}
		}
		return Spec{Kind: Group, Group: name, Text: s}, nil
	}
	return parseCommon(flag, s, startSyntax)
}

// ParseEnd parses where a range ends (exclusive): end, offset:N,
// P:O[,P:O...] or time:RFC3339.
func ParseEnd(flag, s string) (Spec, error) {
	if s == "end" || s == "newest" {
		return Spec{Kind: Newest, Text: s}, nil
	}
	return parseCommon(flag, s, endSyntax)
}

// ParseReset parses a position to reset a group to: oldest, newest,
// offset:N, P:O[,P:O...] or time:RFC3339.
func ParseReset(flag, s string) (Spec, error) {
	switch s {
	case "oldest":
		return Spec{Kind: Oldest, Text: s}, nil
	case "newest", "end":
		return Spec{Kind: Newest, Text: s}, nil
	}
	return parseCommon(flag, s, resetSyntax)
}

// ParseTime parses time:RFC3339 (the prefix is optional).
func ParseTime(flag, s string) (time.Time, error) {
	v := strings.TrimPrefix(s, "time:")
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &SyntaxError{flag, s, "time:RFC3339 such as time:2024-05-01T12:00:00Z", "not an RFC 3339 time"}
	}
	return t, nil
}

func parseCommon(flag, s, accepts string) (Spec, error) {
	if v, ok := strings.CutPrefix(s, "offset:"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return Spec{}, &SyntaxError{flag, s, accepts, "the offset is not a non-negative integer"}
		}
		return Spec{Kind: Offset, Offset: n, Text: s}, nil
	}
	if strings.HasPrefix(s, "time:") {
		t, err := ParseTime(flag, s)
		if err != nil {
			return Spec{}, &SyntaxError{flag, s, accepts, "not an RFC 3339 time"}
		}
		return Spec{Kind: Time, Time: t, Text: s}, nil
	}
	if strings.Contains(s, ":") {
		parts := map[int32]int64{}
		for item := range strings.SplitSeq(s, ",") {
			ps, os, ok := strings.Cut(strings.TrimSpace(item), ":")
			p, perr := strconv.ParseInt(ps, 10, 32)
			o, oerr := strconv.ParseInt(os, 10, 64)
			if !ok || perr != nil || oerr != nil || p < 0 || o < 0 {
				return Spec{}, &SyntaxError{flag, s, accepts, fmt.Sprintf("%q is not PARTITION:OFFSET", item)}
			}
			if _, dup := parts[int32(p)]; dup {
				return Spec{}, &SyntaxError{flag, s, accepts, fmt.Sprintf("partition %d is given twice", p)}
			}
			parts[int32(p)] = o
		}
		return Spec{Kind: PerPartition, Partitions: parts, Text: s}, nil
	}
	return Spec{}, &SyntaxError{Flag: flag, Value: s, Accepts: accepts}
}

// ParsePartitions parses a comma-separated list of partition numbers.
func ParsePartitions(flag, s string) ([]int32, error) {
	seen := map[int32]bool{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := strconv.ParseInt(item, 10, 32)
		if err != nil || p < 0 {
			return nil, &SyntaxError{flag, s, "partition numbers such as 0,3", fmt.Sprintf("%q is not a partition number", item)}
		}
		seen[int32(p)] = true
	}
	if len(seen) == 0 {
		return nil, &SyntaxError{flag, s, "partition numbers such as 0,3", "no partition given"}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}
