package offsets

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// GroupPartition is a consumer group's position on one partition.
type GroupPartition struct {
	Partition int32 `json:"partition"`
	// Committed is the group's committed offset; nil when it has none.
	Committed *int64 `json:"committed"`
	LogStart  int64  `json:"log_start"`
	End       int64  `json:"end"`
	// Lag is how many records the group has still to read: End minus the
	// committed offset, or minus the log start when the committed offset
	// is missing (and the group starts at the oldest record) or was
	// deleted. A group without a commit that starts at the newest record
	// has no lag.
	Lag int64 `json:"lag"`
}

// GroupView is a consumer group's committed offsets on one topic.
type GroupView struct {
	Group      string           `json:"group"`
	Topic      string           `json:"topic"`
	State      string           `json:"state"`
	Members    []string         `json:"members"`
	Partitions []GroupPartition `json:"partitions"`
	Totals     GroupTotals      `json:"totals"`
}

// GroupTotals sums a GroupView.
type GroupTotals struct {
	Records int64 `json:"records"` // held: End - LogStart
	Lag     int64 `json:"lag"`
}

// Active reports whether the group has members.
func (v *GroupView) Active() bool { return len(v.Members) > 0 }

// ActiveGroupError refuses to change the offsets of a group in use.
type ActiveGroupError struct {
	Group   string
	State   string
	Members []string
}

func (e *ActiveGroupError) Error() string {
	return fmt.Sprintf("group %q is active (state %s, %d member(s): %s); stop its consumers (the pipeline's runners) before resetting its offsets",
		e.Group, e.State, len(e.Members), strings.Join(e.Members, ", "))
}

// ViewGroup reads group's committed offsets on topic t and its members.
// startNewest says where the group begins without a commit, for the lag.
func ViewGroup(ctx context.Context, adm *kadm.Client, t *Topic, group string, startNewest bool) (*GroupView, error) {
	v := &GroupView{Group: group, Topic: t.Name, Members: []string{}, Partitions: []GroupPartition{}}
	state, members, err := describe(ctx, adm, group)
	if err != nil {
		return nil, err
	}
	v.State, v.Members = state, members
	committed, err := adm.FetchOffsetsForTopics(ctx, group, t.Name)
	if errors.Is(err, kerr.GroupIDNotFound) {
		err = nil // no such group (yet): nothing committed
	}
	if err != nil {
		return nil, fmt.Errorf("fetch the offsets of group %q: %w", group, err)
	}
	for _, p := range t.Partitions {
		gp := GroupPartition{Partition: p.Partition, LogStart: p.LogStart, End: p.End}
		from := p.LogStart
		if startNewest {
			from = p.End
		}
		if o, ok := committed.Lookup(t.Name, p.Partition); ok && o.Err == nil && o.At >= 0 {
			at := o.At
			gp.Committed = &at
			from = max(at, p.LogStart)
		}
		gp.Lag = max(p.End-from, 0)
		v.Partitions = append(v.Partitions, gp)
		v.Totals.Records += p.End - p.LogStart
		v.Totals.Lag += gp.Lag
	}
	return v, nil
}

// describe returns a group's state and its members as client-id/host. A
// group of the classic protocol is described with DescribeGroups; one of
// the newer consumer protocol (KIP-848), which DescribeGroups does not
// show, with ConsumerGroupDescribe where the brokers support it.
func describe(ctx context.Context, adm *kadm.Client, group string) (string, []string, error) {
	state, members := "Dead", []string{}
	ds, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return "", nil, fmt.Errorf("describe group %q: %w", group, err)
	}
	if d, ok := ds[group]; ok {
		switch {
		case errors.Is(d.Err, kerr.GroupIDNotFound):
			// no such classic group (yet)
		case d.Err != nil:
			return "", nil, fmt.Errorf("describe group %q: %w", group, d.Err)
		default:
			state = d.State
			for _, m := range d.Members {
				members = append(members, m.ClientID+"/"+strings.TrimPrefix(m.ClientHost, "/"))
			}
		}
	}
	if len(members) == 0 {
		if cs, err := adm.DescribeConsumerGroups(ctx, group); err == nil {
			if c, ok := cs[group]; ok && c.Err == nil && len(c.Members) > 0 {
				state = c.State
				for _, m := range c.Members {
					members = append(members, m.ClientID+"/"+strings.TrimPrefix(m.ClientHost, "/"))
				}
			}
		}
	}
	sort.Strings(members)
	return state, members, nil
}

// Change is one partition of a reset.
type Change struct {
	Partition int32  `json:"partition"`
	From      *int64 `json:"from"` // nil: no committed offset
	To        int64  `json:"to"`
}

// Delta is To minus From (From missing counts as the log start).
func (c Change) Delta(logStart int64) int64 {
	from := logStart
	if c.From != nil {
		from = *c.From
	}
	return c.To - from
}

// ResetPlan is what a reset would commit.
type ResetPlan struct {
	Group   string   `json:"group"`
	Topic   string   `json:"topic"`
	To      string   `json:"to"`
	Changes []Change `json:"changes"`
	// Warnings about the positions, such as a time before the first record.
	Warnings []string `json:"warnings,omitempty"`
}

// PlanReset computes the offsets a reset of v's group to s would commit on
// the partitions of t (which may be limited to some partitions).
func PlanReset(ctx context.Context, adm *kadm.Client, t *Topic, v *GroupView, s Spec) (*ResetPlan, error) {
	pos, warns, err := ResolveStart(ctx, adm, t, s, "--reset-to")
	if err != nil {
		return nil, err
	}
	plan := &ResetPlan{Group: v.Group, Topic: t.Name, To: s.Text}
	for _, w := range warns {
		plan.Warnings = append(plan.Warnings, w.Msg)
	}
	for _, p := range t.Partitions {
		to, ok := pos[p.Partition]
		if !ok {
			continue
		}
		c := Change{Partition: p.Partition, To: to}
		for _, gp := range v.Partitions {
			if gp.Partition == p.Partition {
				c.From = gp.Committed
			}
		}
		plan.Changes = append(plan.Changes, c)
	}
	return plan, nil
}

// ApplyReset commits the plan's offsets. It checks again, right before,
// that the group has no members, and refuses with *ActiveGroupError if it
// has: a member would overwrite the reset with its own commits.
func ApplyReset(ctx context.Context, adm *kadm.Client, plan *ResetPlan) error {
	state, members, err := describe(ctx, adm, plan.Group)
	if err != nil {
		return err
	}
	if len(members) > 0 {
		return &ActiveGroupError{Group: plan.Group, State: state, Members: members}
	}
	var os kadm.Offsets
	for _, c := range plan.Changes {
		os.Add(kadm.Offset{Topic: plan.Topic, Partition: c.Partition, At: c.To, LeaderEpoch: -1})
	}
	if err := adm.CommitAllOffsets(ctx, plan.Group, os); err != nil {
		return fmt.Errorf("commit the offsets of group %q: %w", plan.Group, err)
	}
	return nil
}
