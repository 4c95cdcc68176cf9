package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// Producer writes records to Kafka (or wherever a run writes: memory in
// config tests, nowhere in a dry run).
type Producer interface {
	// Produce writes every record to its Topic and calls done once, from
	// any goroutine, when all are acknowledged (nil) or one failed (its
	// error). It must not wait on the network.
	Produce(recs []*Record, done func(error))
}

// Observer hears what happens to records, for metrics and the status
// page. observe.Pipeline implements it; its methods are safe on nil.
type Observer interface {
	Begin()
	End(done bool)
	Filtered()
	Out(topic string)
	Delivered(ts time.Time)
	DeadLettered()
	Failed(step string, index int, key []byte, partition int32, offset int64, err error)
	StepObserver() func(*transforms.Step, time.Duration, int, error)
}

// Retry is the backoff of a produce that failed: it is tried again, up to
// MaxRetries times, without running the chain again; then the input is
// settled as not done, and its source hands it out again.
type Retry struct {
	MaxRetries      int
	InitialInterval time.Duration
	MaxInterval     time.Duration
	Multiplier      float64
}

// Config is what an Engine runs: one pipeline's running parts (built fresh
// for it) and where its records go.
type Config struct {
	// Pipeline names the pipeline in dead letters, logs and metrics.
	Pipeline string
	// InputTopic and Subscriber fill Watermill's poison-queue headers of a
	// dead letter when no router's context gives them.
	InputTopic string
	Subscriber string
	// Chain is the pipeline's transform chain. The engine sets its
	// Observe hook and TimeOneIn: a chain belongs to one engine.
	Chain *transforms.Chain
	// Destination picks the topic of an output record; an error is the
	// record's failure in step "output".
	Destination func(*transforms.Record) (string, error)
	// DestinationFields, when set, are the top-level fields Destination
	// reads of an output's value (transforms.TopLevel); nil: unknown, so
	// records take the full path.
	DestinationFields *transforms.Fields
	// DeadLetterTopic receives the records that fail. Without one, a
	// record that fails calls Halt and is settled as not done: the
	// pipeline stops with it uncommitted.
	DeadLetterTopic string
	Halt            func(error)
	// Timeout bounds one run of the chain (not the produce, which the
	// producer bounds); zero means none.
	Timeout time.Duration
	Retry   Retry
	// NoProduceRetry settles an input whose produce failed as not done at
	// once, without Retry's backoff: its source processes it again itself,
	// in order. A source that hands out the next record of a lane before
	// this one's outputs are acknowledged (kafka's Pipelined) needs it: a
	// retry of these outputs alone, later, would write them after those of
	// later records.
	NoProduceRetry bool
	// ReplaceInvalidUTF8 lets a value with invalid UTF-8 through, the bad
	// bytes read as U+FFFD (input.invalid_utf8: replace); by default such a
	// record is a data error, so that its bytes reach the dead-letter topic
	// unchanged instead of being rewritten downstream.
	ReplaceInvalidUTF8 bool
	// Producer writes outputs and dead letters; nil for an engine used only
	// through HandlerFunc.
	Producer Producer
	// Observer, if set, is told about every record.
	Observer Observer
	// Logger logs failed records; nil discards. Values are logged only
	// with LogPayloads.
	Logger      *slog.Logger
	LogPayloads bool
	// Context gives every record's context its values (never its
	// cancellation): labels for Watermill's metrics middleware.
	Context context.Context
	// Middleware wraps the engine's own, outermost first (metrics).
	Middleware []message.HandlerMiddleware
	// ReuseWork recycles a record's work once it is settled: its outputs,
	// their values and the map the chain ran on serve a later record, so
	// that a record's garbage is mostly what Kafka's clients make. Set it
	// only when neither the producer nor settle keeps the outputs (or a
	// Result's Outputs) after settle returns: the runner's BatchPublisher
	// and Kafka source do not; a replay's preview and config tests do.
	ReuseWork bool
}

// Engine is one pipeline's record path. It is safe for concurrent use:
// sources call Process from several goroutines.
type Engine struct {
	cfg     Config
	handler message.HandlerFunc
	obs     Observer
	log     *slog.Logger
	base    context.Context
	// edit, when the chain touches only named top-level fields, is what
	// it touches: records take the spliced path (splice.go), which runs
	// head, the chain or all of it but folded, the steps at its end that
	// edit applies itself (fold.go).
	edit   *codec.Edit
	head   *transforms.Chain
	folded []*transforms.Step
}

// Result is how an input record was settled.
type Result struct {
	// Done: written, filtered or dead-lettered, and acknowledged. Not
	// done: the source must hand the record out again (or, stopping,
	// leave it uncommitted).
	Done bool
	// Dead says Outputs holds the record's dead letter.
	Dead bool
	// Outputs are the records written (none: filtered); with
	// Config.ReuseWork, only until settle returns.
	Outputs []*Record
	// Err is why a record is not done.
	Err error
	// Stall says the record cannot be written for now (its dead letter
	// was refused): the source must not go past it in its partition,
	// should say so, and hands it out again only after a long pause.
	Stall bool
}

// New composes the engine's middleware around the record path. The
// Watermill middleware, outermost first:
//
//  1. cfg.Middleware (metrics);
//  2. the poison queue: a data error sends the input to the dead-letter
//     topic (through the engine's own producer, see deadLetters), or,
//     without a dead-letter topic, halts the pipeline;
//  3. the failure observer;
//  4. timeout, bounding the chain (deadline.go);
//  5. recoverer, turning a panic outside the chain into a data error
//     (the chain recovers its steps' panics itself).
func New(cfg Config) (*Engine, error) {
	if cfg.Chain == nil {
		cfg.Chain = &transforms.Chain{}
	}
	if cfg.Producer == nil {
		cfg.Producer = noProducer{} // HandlerFunc only: the router publishes
	}
	if cfg.Destination == nil {
		return nil, errors.New("engine: no destination")
	}
	e := &Engine{cfg: cfg, obs: cfg.Observer, log: cfg.Logger, base: context.Background()}
	if e.obs == nil {
		e.obs = noObserver{}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Context != nil {
		e.base = context.WithoutCancel(cfg.Context)
	}
	cfg.Chain.Observe, cfg.Chain.TimeOneIn = e.obs.StepObserver(), observe.StepTimeOneIn
	if cfg.DestinationFields != nil {
		if p, ok := planSplice(cfg.Chain, *cfg.DestinationFields); ok {
			e.edit, e.head, e.folded = p.edit, p.head, p.folded
		}
	}
	var first message.HandlerMiddleware
	if cfg.DeadLetterTopic != "" {
		pq, err := middleware.PoisonQueueWithFilter(deadLetters{e}, cfg.DeadLetterTopic, IsDataError)
		if err != nil {
			return nil, err
		}
		first = pq
	} else {
		first = e.halting
	}
	mw := append(append([]message.HandlerMiddleware{}, cfg.Middleware...), first, e.failures)
	if cfg.Timeout > 0 {
		mw = append(mw, timeout(cfg.Timeout))
	}
	mw = append(mw, middleware.Recoverer)
	h := message.HandlerFunc(e.run)
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	e.handler = h
	return e, nil
}

// work is one run of an input record through the middleware: the
// middleware sees a Watermill message, whose context carries this.
type work struct {
	workState
	// The spliced path's record, its headers, output and outputs,
	// allocated with the work: one allocation instead of five. Each is
	// written whole before it is used, so finish leaves them as they are:
	// their lines were last written on another core, and clearing them
	// cost more than the rest of finish.
	rec     transforms.Record
	headers [4]transforms.Header
	out     Record
	one     [1]*Record
	// The spliced path's output bytes and the map the chain ran on, kept
	// when the work is reused (Config.ReuseWork).
	buf []byte
	m   map[string]any
}

// workState is what a work's run sets; finish clears it.
type workState struct {
	in   *Record
	outs []*Record
	dead bool       // outs is the dead letter
	fail *DataError // why the record failed
	ctx  workContext

	// produce's state, for onProduced: one callback per work, not a
	// closure per produce. It survives the work's reuse.
	e        *Engine
	attempt  int
	bo       *backoff
	settle   func(Result)
	produced func(error)

	// The chain's timeout context.
	deadline lazyDeadline
}

// cloneHeaders is in's headers for the chain to change: in the work's
// room when they fit.
func (w *work) cloneHeaders() transforms.Headers {
	h := w.in.Headers
	if h == nil || len(h) > len(w.headers) {
		return h.Clone()
	}
	return append(w.headers[:0:len(w.headers)], h...)
}

type workKey struct{}

// workContext is the context of a record's message: its parent's values
// and the work, with no allocation of its own.
type workContext struct {
	context.Context
	w *work
}

func (c *workContext) Value(key any) any {
	if key == (workKey{}) {
		return c.w
	}
	return c.Context.Value(key)
}

// works are the works of engines with Config.ReuseWork.
var works = sync.Pool{New: func() any { return new(work) }}

// newWork is the work of one run of in through e: a recycled one when e
// reuses works.
func (e *Engine) newWork(parent context.Context, in *Record) *work {
	var w *work
	if e.cfg.ReuseWork {
		w = works.Get().(*work)
	} else {
		w = new(work)
	}
	w.in, w.e = in, e
	w.ctx = workContext{Context: parent, w: w}
	return w
}

// finish settles w's input with res and, when its engine reuses works,
// recycles w: once settle has returned, nothing refers to it (see
// Config.ReuseWork). A work whose chain asked for its deadline's Done
// channel is not recycled: a step may have left a goroutine that still
// watches it.
func (w *work) finish(res Result) {
	e := w.e
	w.settle(res)
	if !e.cfg.ReuseWork || w.deadline.asked() {
		return
	}
	produced, buf, m := w.produced, w.buf[:0], w.m
	if cap(buf) > maxKeptBuffer {
		buf = nil
	}
	if len(m) > maxKeptFields {
		m = nil
	}
	clear(m)
	w.workState = workState{produced: produced}
	w.buf, w.m = buf, m
	works.Put(w)
}

// A recycled work keeps an output buffer and a map of at most this size,
// so that one large record does not keep its memory in the pool.
const (
	maxKeptBuffer = 64 << 10
	maxKeptFields = 64
)

func workOf(msg *message.Message) *work {
	w, _ := msg.Context().Value(workKey{}).(*work)
	return w
}

// messages are the Watermill messages that carry records through the
// middleware in Process. They never leave the engine (the middleware
// neither acks nor keeps them), so they are reused.
var messages = sync.Pool{New: func() any { return message.NewMessage("", nil) }}

// Process takes in to its outputs or its dead letter, hands them to the
// producer and calls settle once, when they are acknowledged or when the
// record must be processed again. Settle may be called on this goroutine
// or the producer's; it must not block.
func (e *Engine) Process(in *Record, settle func(Result)) {
	e.obs.Begin()
	w := e.newWork(e.base, in)
	w.settle = settle
	msg := messages.Get().(*message.Message)
	msg.Payload = in.Value
	msg.SetContext(&w.ctx)
	_, err := e.handler(msg)
	msg.Payload = nil
	clear(msg.Metadata)
	msg.SetContext(nil)
	messages.Put(msg)
	if err != nil {
		e.obs.End(false)
		w.finish(Result{Err: err})
		return
	}
	if len(w.outs) == 0 {
		e.obs.End(true)
		w.finish(Result{Done: true})
		return
	}
	e.produce(w, 0, nil, settle)
}

// HandlerFunc is the pipeline as a Watermill handler, for a router of
// one's own: it runs the same middleware and record path as Process and
// returns the outputs (or the dead letter) as messages for the router to
// publish, each naming its topic in MetaDestination (see
// DestinationPublisher). Messages from Millrace's subscriber carry their
// typed record; others are read with RecordOf.
func (e *Engine) HandlerFunc() message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		w := e.newWork(msg.Context(), RecordOf(msg))
		msg.SetContext(&w.ctx)
		if _, err := e.handler(msg); err != nil {
			return nil, err
		}
		outs := make([]*message.Message, len(w.outs))
		for i, r := range w.outs {
			outs[i] = NewMessage(r)
		}
		return outs, nil
	}
}

// run is the record path inside the middleware: decode once, run the
// chain, route and encode each output once. The outputs go into the work.
// A chain that touches only named top-level fields takes the spliced path
// (splice.go), which falls back to this one for a record it declines.
func (e *Engine) run(msg *message.Message) ([]*message.Message, error) {
	w := workOf(msg)
	in := w.in
	in.Attempts++
	w.outs, w.dead, w.fail = nil, false, nil
	ensureTraceparent(in)
	if e.edit != nil {
		// First: the scan it starts with declines invalid UTF-8, so a
		// record it takes needs no check of its own.
		if done, err := e.spliced(msg.Context(), w); done {
			return nil, err
		}
	}
	if !e.cfg.ReplaceInvalidUTF8 {
		if err := checkUTF8(in.Value); err != nil {
			return nil, e.dataError(w, err)
		}
	}
	rec, err := Input(in)
	if err != nil {
		return nil, e.dataError(w, err)
	}
	outs, err := e.cfg.Chain.Run(msg.Context(), rec)
	if err != nil {
		return nil, e.dataError(w, err)
	}
	if len(outs) == 0 {
		e.obs.Filtered()
		return nil, nil
	}
	recs := make([]*Record, len(outs))
	for i, o := range outs {
		topic, err := e.cfg.Destination(o)
		if err != nil {
			return nil, e.dataError(w, &routeError{err})
		}
		value, err := encode(o.Value)
		if err != nil {
			return nil, e.dataError(w, err)
		}
		recs[i] = &Record{Topic: topic, Key: o.Key, Value: value, Headers: o.Headers, Timestamp: o.Timestamp}
	}
	w.outs = recs
	return nil, nil
}

// Input is the record the chain gets for in: its value decoded (it must
// be a JSON object), its own copy of the headers, the source position.
func Input(in *Record) (*transforms.Record, error) {
	v, err := decode(in.Value)
	if err != nil {
		return nil, err
	}
	return &transforms.Record{Key: in.Key, Value: v, Headers: in.Headers.Clone(), Timestamp: in.Timestamp, Source: in.source()}, nil
}

// dataError records why w's input failed and logs it.
func (e *Engine) dataError(w *work, err error) error {
	de := asDataError(err)
	w.fail = de
	in := w.in
	src := in.source()
	tp, _ := in.Headers.Get(observe.TraceparentHeader)
	attrs := []any{"step", de.Step, "step_index", de.Index, "topic", src.Topic, "partition", src.Partition, "offset", src.Offset,
		"attempts", in.Attempts, "traceparent", tp, "error", de.Err.Error()}
	if e.cfg.LogPayloads {
		attrs = append(attrs, "payload", string(in.Value))
	}
	e.log.Warn("record failed", attrs...)
	return de
}

// produce hands w's outputs to the producer and settles w's input when
// they are acknowledged. A failed produce is retried with the pipeline's
// backoff, without running the chain again; when the retries are spent the
// input is settled as not done. (A Kafka producer retries what Kafka calls
// retriable itself, so what fails here did not pass on its own.)
func (e *Engine) produce(w *work, attempt int, bo *backoff, settle func(Result)) {
	w.e, w.attempt, w.bo, w.settle = e, attempt, bo, settle
	if w.produced == nil {
		w.produced = w.onProduced // one callback for the work's produces
	}
	e.cfg.Producer.Produce(w.outs, w.produced)
}

// onProduced is the outcome of w's produce (see produce).
func (w *work) onProduced(err error) {
	e, attempt, bo, settle := w.e, w.attempt, w.bo, w.settle
	in := w.in
	if err == nil {
		if w.dead {
			e.obs.DeadLettered()
		} else {
			for _, o := range w.outs {
				e.obs.Out(o.Topic)
			}
			e.obs.Delivered(in.Timestamp)
		}
		e.obs.End(true)
		w.finish(Result{Done: true, Dead: w.dead, Outputs: w.outs})
		return
	}
	step := observe.StepPublish
	if w.dead {
		step = observe.StepDeadLetter
	}
	e.obs.Failed(step, -1, in.Key, in.Partition, in.Offset, err)
	if IsRejected(err) {
		e.rejected(w, err, settle)
		return
	}
	if attempt >= e.cfg.Retry.MaxRetries || e.cfg.NoProduceRetry {
		e.log.Warn("produce failed and the retries are spent; the record will be processed again",
			"partition", in.Partition, "offset", in.Offset, "attempts", attempt+1, "error", err.Error())
		e.obs.End(false)
		w.finish(Result{Err: fmt.Errorf("produce: %w", err)})
		return
	}
	if bo == nil {
		bo = newBackoff(e.cfg.Retry)
	}
	wait := bo.next()
	e.log.Debug("produce failed; retrying", "partition", in.Partition, "offset", in.Offset,
		"attempt", attempt+1, "wait", wait.String(), "error", err.Error())
	time.AfterFunc(wait, func() { e.produce(w, attempt+1, bo, settle) })
}

// rejected handles outputs the brokers refused for good (RejectedError):
// the input goes to the dead-letter topic with the cause. When there is no
// dead-letter topic, the pipeline halts with the record unsettled, so
// uncommitted. When it was the dead letter that was refused, the record
// is settled as stalled: its source stops its partition at it, reports
// it, and tries it again after a long pause (a topic's limits may be
// raised meanwhile), while the other partitions go on. Nothing is dropped,
// and nothing is retried in a loop that fills the log.
func (e *Engine) rejected(w *work, err error, settle func(Result)) {
	in := w.in
	if !w.dead && e.cfg.DeadLetterTopic != "" {
		w.fail = &DataError{Step: observe.StepPublish, Index: -1, Err: fmt.Errorf("an output was %w", err)}
		e.log.Warn("an output was refused by the brokers; the record goes to the dead-letter topic",
			"partition", in.Partition, "offset", in.Offset, "error", err.Error())
		w.outs, w.dead = []*Record{e.deadLetter(w, nil)}, true
		e.produce(w, 0, nil, settle)
		return
	}
	if w.dead {
		stall := fmt.Errorf("the record at partition %d offset %d cannot be written: its dead letter to %s was %w; the partition stops at it (uncommitted) and tries it again later",
			in.Partition, in.Offset, e.cfg.DeadLetterTopic, err)
		e.log.Error("a dead letter was refused by the brokers: its partition stops at the record, the other partitions go on",
			"partition", in.Partition, "offset", in.Offset, "dead_letter_topic", e.cfg.DeadLetterTopic, "error", err.Error())
		e.obs.End(false)
		w.finish(Result{Err: stall, Stall: true})
		return
	}
	halt := fmt.Errorf("the record at partition %d offset %d cannot be written: an output was %w; it stays uncommitted", in.Partition, in.Offset, err)
	if e.cfg.Halt != nil {
		e.cfg.Halt(halt)
	}
	e.obs.End(false)
	w.finish(Result{Err: halt})
}

// halting stops the pipeline on a data error when there is no dead-letter
// topic; the error leaves the record not done.
func (e *Engine) halting(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := next(msg)
		if IsDataError(err) && e.cfg.Halt != nil {
			e.cfg.Halt(err)
		}
		return out, err
	}
}

// failures counts each failed run by the step that failed.
func (e *Engine) failures(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := next(msg)
		if err != nil {
			step, index := observe.StepPanic, -1
			var de *DataError
			if errors.As(err, &de) {
				step, index = de.Step, de.Index
			}
			in := workOf(msg).in
			e.obs.Failed(step, index, in.Key, in.Partition, in.Offset, err)
		}
		return out, err
	}
}

// deadLetters is the poison queue's publisher: it turns the failed input
// into its dead letter, which Process then produces like an output, so
// that no goroutine waits on the network for it either.
type deadLetters struct{ e *Engine }

func (d deadLetters) Publish(_ string, msgs ...*message.Message) error {
	for _, m := range msgs {
		w := workOf(m)
		md := m.Metadata
		fill := [][2]string{
			{middleware.PoisonedTopicKey, d.e.cfg.InputTopic},
			{middleware.PoisonedHandlerKey, d.e.cfg.Pipeline},
			{middleware.PoisonedSubscriberKey, d.e.cfg.Subscriber},
		}
		for _, kv := range fill {
			if md.Get(kv[0]) == "" {
				md.Set(kv[0], kv[1])
			}
		}
		w.outs, w.dead = []*Record{d.e.deadLetter(w, md)}, true
	}
	return nil
}

func (deadLetters) Close() error { return nil }

// ensureTraceparent gives a record a W3C traceparent header when it has
// none (or an invalid one), before the chain runs, so that its outputs and
// its dead letter carry it; a redelivered record keeps the one it got. Its
// bytes live in the record.
func ensureTraceparent(in *Record) {
	if tp, ok := in.Headers.Get(observe.TraceparentHeader); ok && observe.ValidTraceparent(tp) {
		return
	}
	in.Headers.SetBytes(observe.TraceparentHeader, observe.AppendTraceparent(in.traceparent[:0]))
}

// givenTraceparent reports whether r's traceparent header is the one
// ensureTraceparent gave it: its value is r's own storage.
func (r *Record) givenTraceparent() bool {
	for _, h := range r.Headers {
		if h.Key == observe.TraceparentHeader && len(h.Value) > 0 && &h.Value[0] == &r.traceparent[0] {
			return true
		}
	}
	return false
}

type noProducer struct{}

func (noProducer) Produce(_ []*Record, done func(error)) { done(errors.New("engine: no producer")) }

type noObserver struct{}

func (noObserver) Begin()                                                          {}
func (noObserver) End(bool)                                                        {}
func (noObserver) Filtered()                                                       {}
func (noObserver) Out(string)                                                      {}
func (noObserver) Delivered(time.Time)                                             {}
func (noObserver) DeadLettered()                                                   {}
func (noObserver) Failed(string, int, []byte, int32, int64, error)                 {}
func (noObserver) StepObserver() func(*transforms.Step, time.Duration, int, error) { return nil }
