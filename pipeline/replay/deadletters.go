package replay

import "github.com/millrace-dev/millrace/pipeline/engine"

// HeaderReplayID marks every dead letter a replay or redrive writes with
// the replay's id, so that they can be told from the live pipeline's (and
// a redrive of them finds where they came from). Like every millrace.*
// header, a redrive removes it when it restores the record.
const HeaderReplayID = "millrace.replay.id"

// markDeadLetters is the replay's producer: it adds HeaderReplayID to the
// dead letters among the records and hands them on.
type markDeadLetters struct {
	next  engine.Producer
	topic string // the dead-letter topic the replay writes to
	id    string
}

func (m markDeadLetters) Produce(recs []*engine.Record, done func(error)) {
	for _, r := range recs {
		if r.Topic == m.topic && r.Headers.Has(engine.HeaderError) && !r.Headers.Has(HeaderReplayID) {
			// A copy: the dead letter's headers may share their array with
			// the input's.
			r.Headers = r.Headers.Clone()
			r.Headers.Add(HeaderReplayID, m.id)
		}
	}
	m.next.Produce(recs, done)
}
