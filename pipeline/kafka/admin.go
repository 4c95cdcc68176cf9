package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// NewClient returns a franz-go client for the CLI and admin tasks,
// secured by sec (nil: plaintext); opts are added to the options.
func NewClient(brokers []string, clientID string, sec *Security, opts ...kgo.Opt) (*kgo.Client, error) {
	c, err := kgo.NewClient(append(clientOpts(brokers, clientID, sec), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return c, nil
}

// EnsureTopics creates the topics that do not exist yet. Topics that exist
// are left as they are. A failure of TLS or SASL is returned as a
// *SecurityError.
func EnsureTopics(ctx context.Context, brokers []string, clientID string, sec *Security, partitions, replication int, topics ...string) error {
	cl, err := NewClient(brokers, clientID, sec)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	uniq := map[string]bool{}
	for _, t := range topics {
		if t != "" {
			uniq[t] = true
		}
	}
	names := make([]string, 0, len(uniq))
	for t := range uniq {
		names = append(names, t)
	}
	sort.Strings(names)
	resp, err := adm.CreateTopics(ctx, int32(partitions), int16(replication), nil, names...)
	if err != nil {
		var se *SecurityError
		if err = sec.Explain(err); errors.As(err, &se) {
			return err // it names the broker
		}
		return fmt.Errorf("create topics on %v: %w", brokers, err)
	}
	var errs []error
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("create topic %q: %w", r.Topic, r.Err))
		}
	}
	return errors.Join(errs...)
}

// TopicMaxMessageBytes returns the max.message.bytes of the topics that
// exist among those given and say one. The runner gives the producer
// those of its output topics (BatchPublisherConfig.TopicMaxMessageBytes):
// a batch the brokers refuse as too large fails every record in it, so a
// batch must never be larger than its topic takes.
func TopicMaxMessageBytes(ctx context.Context, brokers []string, clientID string, sec *Security, topics ...string) (map[string]int, error) {
	cl, err := NewClient(brokers, clientID, sec)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var names []string
	for _, t := range topics {
		if t != "" && !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	limits := map[string]int{}
	if len(names) == 0 {
		return limits, nil
	}
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return nil, err
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			continue // not there (yet): the producer's own limit applies
		}
		for _, c := range rc.Configs {
			if c.Key != "max.message.bytes" || c.Value == nil {
				continue
			}
			if n, err := strconv.Atoi(*c.Value); err == nil && n > 0 {
				limits[rc.Name] = n
			}
		}
	}
	return limits, nil
}
