package kafka

import (
	"errors"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kerr"
)

// refusedForGood are the produce errors that no retry cures: the record
// (too large, invalid, a timestamp the topic refuses), the topic (invalid
// name, not there with creation off, after franz-go's own retries) or the
// permission to write it. franz-go returns them without retrying, or after
// its retries, and the same record would meet them again.
var refusedForGood = []error{
	kerr.MessageTooLarge,
	kerr.RecordListTooLarge,
	kerr.InvalidRecord,
	kerr.InvalidTimestamp,
	kerr.InvalidTopicException,
	kerr.UnknownTopicOrPartition,
	kerr.TopicAuthorizationFailed,
	kerr.ClusterAuthorizationFailed,
	kerr.PolicyViolation,
}

// asRejected wraps an error of refusedForGood in engine.RejectedError, so
// that the engine dead-letters the record instead of retrying it.
func asRejected(err error) error {
	if err == nil || engine.IsRejected(err) {
		return err
	}
	for _, e := range refusedForGood {
		if errors.Is(err, e) {
			return &engine.RejectedError{Err: err}
		}
	}
	return err
}
