package observe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// pollState is what the last poll learned about a pipeline.
type pollState struct {
	polled     bool      // a poll has finished
	okAt       time.Time // the brokers last answered
	brokerErr  error     // the brokers did not answer the last poll
	inputErr   error     // the input topic is missing or has no leader
	deadErr    error     // the dead-letter topic is missing or has no leader
	groupErr   error     // the group could not be described
	groupState string    // Stable, PreparingRebalance, CompletingRebalance, Empty, Dead
	members    int       // members in the group, all runners
	joined     bool      // this runner is a member
	assigned   int       // partitions assigned to this runner
	lag        map[int32]int64
	lagAt      time.Time
}

// poller reads lag and group state from the brokers with its own client.
type poller struct {
	o   *Observer
	cl  *kgo.Client
	adm *kadm.Client
}

// pollTimeout bounds one poll.
func (pl *poller) pollTimeout() time.Duration {
	return min(max(pl.o.opts.PollInterval, 3*time.Second), 10*time.Second)
}

func (pl *poller) run(stop <-chan struct{}) {
	defer pl.cl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	for {
		pl.poll(ctx)
		t := time.NewTimer(pl.interval(time.Now()))
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// poll asks the brokers for the topics' metadata (which also shows they
// answer), then for each group's state, members and lag.
func (pl *poller) poll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, pl.pollTimeout())
	defer cancel()
	pipes := pl.o.pipelines()
	var topics, groups []string
	for _, p := range pipes {
		topics = appendNew(topics, p.topicName())
		topics = appendNew(topics, p.deadLetterName())
		groups = appendNew(groups, p.groupName())
	}
	topicErrs, err := pl.metadata(ctx, topics)
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return // stopping
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer to a metadata request within %s", pl.pollTimeout())
	}
	now := time.Now()
	if err != nil {
		for _, p := range pipes {
			p.o.m.pollFailures.WithLabelValues(p.label).Inc()
			p.mu.Lock()
			p.poll.polled, p.poll.brokerErr = true, err
			p.mu.Unlock()
		}
		pl.o.updateReady(now)
		return
	}
	lags, lagErr := pl.adm.Lag(ctx, groups...)
	for _, p := range pipes {
		p.mu.Lock()
		old := p.poll
		p.mu.Unlock()
		st := pollState{polled: true, okAt: now, lag: old.lag, lagAt: old.lagAt}
		st.inputErr = topicErrs[p.topicName()]
		if d := p.deadLetterName(); d != "" {
			st.deadErr = topicErrs[d]
		}
		l, found := lags[p.groupName()]
		switch {
		case lagErr != nil:
			st.groupErr = lagErr
		case !found:
			st.groupErr = errors.New("not described by the brokers")
		case errors.Is(l.DescribeErr, kerr.GroupIDNotFound):
			st.groupState = "Empty" // nobody joined yet
		case l.DescribeErr != nil:
			st.groupErr = l.DescribeErr
		default:
			st.groupState = l.State
			st.members = len(l.Members)
			st.joined, st.assigned = p.findMember(l.Members)
			if l.FetchErr == nil {
				st.lag, st.lagAt = p.setLag(l.Lag, old.lag), now
			}
		}
		if st.groupErr != nil || (l.FetchErr != nil && !errors.Is(l.FetchErr, kerr.GroupIDNotFound)) {
			p.o.m.pollFailures.WithLabelValues(p.label).Inc()
		}
		p.mu.Lock()
		p.poll = st
		p.mu.Unlock()
	}
	pl.o.updateReady(now)
}

// metadata sends a metadata request for topics straight to a broker (not
// from the client's cache, so that it proves a broker answers) and returns
// the topics that are missing or have a partition without a leader.
func (pl *poller) metadata(ctx context.Context, topics []string) (map[string]error, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, pl.cl)
	if err != nil {
		return nil, err
	}
	errs := map[string]error{}
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			errs[*t.Topic] = err
			continue
		}
		if len(t.Partitions) == 0 {
			errs[*t.Topic] = errors.New("the topic has no partitions")
			continue
		}
		for _, part := range t.Partitions {
			if part.Leader < 0 {
				errs[*t.Topic] = fmt.Errorf("partition %d has no leader", part.Partition)
				break
			}
		}
	}
	for _, t := range topics {
		if !slices.ContainsFunc(resp.Topics, func(rt kmsg.MetadataResponseTopic) bool { return rt.Topic != nil && *rt.Topic == t }) {
			errs[t] = errors.New("not in the brokers' metadata")
		}
	}
	return errs, nil
}

// findMember looks for this runner among a group's members: the member id
// its subscriber reports, or else any member with the runner's client id.
// It returns whether one was found and how many partitions of the input
// topic the runner's members hold.
func (p *Pipeline) findMember(members []kadm.DescribedGroupMember) (bool, int) {
	var id string
	if gm := p.member.Load(); gm != nil {
		if id = (*gm).GroupMemberID(); id == "" {
			return false, 0
		}
	}
	found, assigned := false, 0
	for _, m := range members {
		if (id != "" && m.MemberID != id) || (id == "" && m.ClientID != p.clientID) {
			continue
		}
		found = true
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				if t.Topic == p.topicName() {
					assigned += len(t.Partitions)
				}
			}
		}
	}
	return found, assigned
}

// setLag exports the lag of the input topic's partitions and drops the
// series of partitions no longer reported.
func (p *Pipeline) setLag(gl kadm.GroupLag, old map[int32]int64) map[int32]int64 {
	lag := map[int32]int64{}
	for part, l := range gl[p.topicName()] {
		if l.Err == nil && l.Lag >= 0 {
			lag[part] = l.Lag
			p.o.m.lag.WithLabelValues(p.label, p.input, strconv.Itoa(int(part))).Set(float64(l.Lag))
		}
	}
	for part := range old {
		if _, ok := lag[part]; !ok {
			p.o.m.lag.DeleteLabelValues(p.label, p.input, strconv.Itoa(int(part)))
		}
	}
	return lag
}

func appendNew(xs []string, x string) []string {
	if x == "" || slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}
