package kafka

import (
	"errors"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// What the brokers refuse for good reaches the engine as refused
// (engine.IsRejected), at once, so that the input is dead-lettered with
// the cause instead of retried without end: an unauthorized topic, an
// invalid record or timestamp, a policy; and a topic that is not there
// when topic creation is off, after franz-go's own few retries. A
// transient error is not refused.
func TestRefusedForGood(t *testing.T) {
	for _, code := range []*kerr.Error{kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed, kerr.InvalidRecord,
		kerr.InvalidTimestamp, kerr.PolicyViolation, kerr.MessageTooLarge} {
		t.Run(code.Message, func(t *testing.T) {
			cluster, addr := newCluster(t)
			if _, err := kadm.NewClient(client(t, addr)).CreateTopic(t.Context(), 1, 1, nil, "out"); err != nil {
				t.Fatal(err)
			}
			cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
				cluster.KeepControl()
				return answer(req, code.Code), nil, true
			})
			err := produceOne(t, addr, "out")
			if !engine.IsRejected(err) || !errors.Is(err, code) {
				t.Errorf("got %v, want %s refused for good", err, code.Message)
			}
		})
	}

	t.Run("no such topic, creation off", func(t *testing.T) {
		_, addr := newCluster(t) // kfake creates no topic unless told to
		err := produceOne(t, addr, "missing")
		if !engine.IsRejected(err) || !errors.Is(err, kerr.UnknownTopicOrPartition) {
			t.Errorf("got %v, want UNKNOWN_TOPIC_OR_PARTITION refused for good", err)
		}
	})

	for _, err := range []error{kerr.NotEnoughReplicas, kerr.RequestTimedOut, kerr.NotLeaderForPartition, errors.New("dial tcp: connection refused")} {
		if engine.IsRejected(asRejected(err)) {
			t.Errorf("%v is taken as refused for good; it is transient", err)
		}
	}
}

// produceOne writes a record to topic through a BatchPublisher of its
// own and returns the outcome.
func produceOne(t *testing.T, addr, topic string) error {
	t.Helper()
	p, err := NewBatchPublisher(BatchPublisherConfig{Brokers: []string{addr}, DeliveryTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	return produceWith(t, p, &engine.Record{Topic: topic, Value: []byte(`{"a":1}`)})
}

// produceWith writes recs through p and returns the outcome, failing the
// test if there is none within 20 s (an error retried without end).
func produceWith(t *testing.T, p *BatchPublisher, recs ...*engine.Record) error {
	t.Helper()
	done := make(chan error, 1)
	p.Produce(recs, func(err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("no outcome in 20 s: the error was retried")
		return nil
	}
}
