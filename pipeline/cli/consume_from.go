package cli

import (
	"context"
	"strconv"
	"strings"

	"github.com/millrace-dev/millrace/pipeline/replay/offsets"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fromSyntax is what consume --from accepts, as kcat's -o does.
const fromSyntax = "oldest, newest, N (an offset), -N (the last N of each partition) or time:RFC3339"

// from is a parsed consume --from.
type from struct {
	spec offsets.Spec // oldest, newest, an offset or a time
	last int64        // -N: the last N records of each partition
}

// parseFrom parses --from: oldest, newest, N, offset:N, -N or time:RFC3339.
func parseFrom(s string) (from, error) {
	if n, ok := strings.CutPrefix(s, "-"); ok {
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil || v <= 0 {
			return from{}, usageErr("--from %q: -N takes a positive count; use %s", s, fromSyntax)
		}
		return from{last: v, spec: offsets.Spec{Kind: offsets.Newest, Text: s}}, nil
	}
	if s == "" {
		s = "oldest"
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		s = "offset:" + s
	}
	sp, err := offsets.ParseReset("--from", s)
	if err != nil || sp.Kind == offsets.PerPartition || s == "end" {
		return from{}, usageErr("--from %q: use %s", s, fromSyntax)
	}
	return from{spec: sp}, nil
}

// groupOffset is where a group without a committed offset starts.
func (f from) groupOffset() kgo.Offset {
	switch {
	case f.last > 0:
		return kgo.NewOffset().AtEnd().Relative(-f.last)
	case f.spec.Kind == offsets.Newest:
		return kgo.NewOffset().AtEnd()
	case f.spec.Kind == offsets.Offset:
		return kgo.NewOffset().At(f.spec.Offset)
	case f.spec.Kind == offsets.Time:
		return kgo.NewOffset().AfterMilli(f.spec.Time.UnixMilli())
	}
	return kgo.NewOffset().AtStart()
}

// resolve turns f into an offset per partition of t: an offset outside a
// partition's log start and end is an *offsets.OutOfRangeError.
func (f from) resolve(ctx context.Context, adm *kadm.Client, t *offsets.Topic) (offsets.Positions, error) {
	if f.last > 0 {
		out := offsets.Positions{}
		for _, p := range t.Partitions {
			out[p.Partition] = max(p.End-f.last, p.LogStart)
		}
		return out, nil
	}
	pos, _, err := offsets.ResolveStart(ctx, adm, t, f.spec, "--from")
	return pos, err
}
