package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/millrace-dev/millrace/transforms"
)

// pipe is one pipeline at run time.
type pipe struct {
	cfg *config.Pipeline
	pub message.Publisher
	log *slog.Logger
	obs *observe.Pipeline // nil when not observed
	// logPayloads adds the record value to the log line of a failed record.
	logPayloads bool
}

// handle is the record path: decode once, run the chain, encode each output
// once, publish all outputs in one call. It returns only after the broker
// acknowledged every output, so the router acks (and the offset may be
// committed) only then.
func (p *pipe) handle(msg *message.Message) error {
	countAttempt(msg)
	ensureTraceparent(msg)
	ctx := msg.Context()
	rec, err := RecordOf(msg)
	if err != nil {
		return p.dataError(msg, err)
	}
	outs, err := p.cfg.Chain.Run(ctx, rec)
	if err != nil {
		return p.dataError(msg, err)
	}
	if len(outs) == 0 {
		p.obs.Filtered()
		return nil
	}
	msgs := make([]*message.Message, len(outs))
	for i, out := range outs {
		topic, err := p.destination(out)
		if err != nil {
			return p.dataError(msg, err)
		}
		id := msg.UUID
		if len(outs) > 1 {
			id += "#" + strconv.Itoa(i)
		}
		if msgs[i], err = toMessage(id, out, topic); err != nil {
			return p.dataError(msg, err)
		}
		if p.obs != nil {
			// The handler's context values (not its deadline) label the
			// publish metrics with the pipeline.
			msgs[i].SetContext(context.WithoutCancel(ctx))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("before publish: %w", err)
	}
	if err := p.pub.Publish(p.cfg.Output.Topic, msgs...); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if p.obs != nil {
		for _, m := range msgs {
			p.obs.Out(m.Metadata.Get(kafka.MetaDestination))
		}
		p.obs.Delivered(rec.Source.Timestamp)
	}
	return nil
}

// destination picks the output topic of r.
func (p *pipe) destination(r *transforms.Record) (string, error) {
	return Destination(p.cfg, r)
}

// Destination picks the output topic of a record of pipeline p: one set by
// a transform, else the first route whose condition holds, else the output
// topic.
func Destination(p *config.Pipeline, r *transforms.Record) (string, error) {
	if r.Topic != "" {
		return r.Topic, nil
	}
	for _, rt := range p.Output.Routes {
		ok, err := rt.When.EvalBool(r)
		if err != nil {
			return "", &routeError{err}
		}
		if ok {
			return rt.Topic, nil
		}
	}
	return p.Output.Topic, nil
}
