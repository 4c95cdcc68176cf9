package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/millrace-dev/millrace/transforms"
)

// pipe is one pipeline at run time.
type pipe struct {
	cfg   *config.Pipeline
	parts *config.Parts // built for this run
	pub   message.Publisher
	log   *slog.Logger
	obs   *observe.Pipeline // nil when not observed
	// logPayloads adds the record value to the log line of a failed record.
	logPayloads bool
}

// handle is the record path under a Watermill router: process, then
// publish all outputs in one call. It returns only after the broker
// acknowledged every output, so the router acks (and the offset may be
// committed) only then.
func (p *pipe) handle(msg *message.Message) error {
	msgs, err := p.process(msg)
	if err != nil || len(msgs) == 0 {
		return err
	}
	if err := msg.Context().Err(); err != nil {
		return fmt.Errorf("before publish: %w", err)
	}
	if err := p.pub.Publish(p.cfg.Output.Topic, msgs...); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	p.delivered(msg, msgs)
	return nil
}

// process is the record path up to the outputs: decode once, run the
// chain, encode each output once. It returns the output messages, each
// with its destination in kafka.MetaDestination; none when the chain
// filtered the record.
func (p *pipe) process(msg *message.Message) ([]*message.Message, error) {
	countAttempt(msg)
	ensureTraceparent(msg)
	ctx := msg.Context()
	rec, err := RecordOf(msg)
	if err != nil {
		return nil, p.dataError(msg, err)
	}
	outs, err := p.parts.Chain.Run(ctx, rec)
	if err != nil {
		return nil, p.dataError(msg, err)
	}
	if len(outs) == 0 {
		p.obs.Filtered()
		return nil, nil
	}
	msgs := make([]*message.Message, len(outs))
	for i, out := range outs {
		topic, err := p.destination(out)
		if err != nil {
			return nil, p.dataError(msg, err)
		}
		id := msg.UUID
		if len(outs) > 1 {
			id += "#" + strconv.Itoa(i)
		}
		if msgs[i], err = toMessage(id, out, topic); err != nil {
			return nil, p.dataError(msg, err)
		}
		if p.obs != nil {
			// The handler's context values (not its deadline) label the
			// publish metrics with the pipeline.
			msgs[i].SetContext(context.WithoutCancel(ctx))
		}
	}
	return msgs, nil
}

// delivered counts the outputs of msg once the broker acknowledged them.
func (p *pipe) delivered(msg *message.Message, outs []*message.Message) {
	if p.obs == nil {
		return
	}
	for _, m := range outs {
		p.obs.Out(m.Metadata.Get(kafka.MetaDestination))
	}
	var ts time.Time
	if ms, err := strconv.ParseInt(msg.Metadata.Get(kafka.MetaTimestamp), 10, 64); err == nil {
		ts = time.UnixMilli(ms)
	}
	p.obs.Delivered(ts)
}

// destination picks the output topic of r.
func (p *pipe) destination(r *transforms.Record) (string, error) {
	return p.parts.Destination(r)
}
