package engine

import "errors"

// RejectedError is a produce the brokers refused for good: the record is
// too large, invalid, the topic does not exist (and is not created) or is
// not ours to write. Retrying cannot succeed, so the engine does not: the
// input goes to the dead-letter topic with the cause, and a dead letter
// that is refused too stops the pipeline. Producers wrap such errors in it.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return "refused by the brokers: " + e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// IsRejected reports whether err is a RejectedError.
func IsRejected(err error) bool {
	var re *RejectedError
	return errors.As(err, &re)
}
