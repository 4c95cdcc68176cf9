package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/millrace-dev/millrace/transforms"
)

// A message built from a record gives back the record itself, with its
// header order and repeats, until a middleware changes the message; then
// the message's own payload and metadata count.
func TestRecordOfMessage(t *testing.T) {
	rec := &engine.Record{Topic: "in", Partition: 2, Offset: 9, Key: []byte("k"), Value: []byte(`{"a":1}`),
		Headers: transforms.HeadersOf("dup", "1", "dup", "2", "b", "x")}
	msg := engine.InputMessage(context.Background(), "in/2/9", rec)
	if engine.RecordOf(msg) != rec {
		t.Fatal("an unchanged message does not give back its record")
	}
	if md := msg.Metadata; md["dup"] != "2" || md[engine.MetaPartition] != "2" || md[engine.MetaOffset] != "9" || md[engine.MetaKey] != "k" {
		t.Errorf("metadata %v", md)
	}
	msg.Metadata.Set("b", "changed")
	got := engine.RecordOf(msg)
	if got == rec || got.Partition != 2 || got.Offset != 9 || string(got.Key) != "k" || list(got.Headers) != "b=changed dup=2 " {
		t.Errorf("changed metadata: %+v %s", got, list(got.Headers))
	}
	msg = engine.InputMessage(context.Background(), "in/2/9", rec)
	msg.Payload = []byte(`{"a":2}`)
	if got := engine.RecordOf(msg); got == rec || string(got.Value) != `{"a":2}` {
		t.Errorf("changed payload: %s", got.Value)
	}
	many := &engine.Record{Topic: "in", Value: []byte(`{}`), Headers: transforms.HeadersOf("", "empty")}
	for i := range 40 {
		many.Headers = append(many.Headers, transforms.Header{Key: fmt.Sprint("h", i%30), Value: fmt.Append(nil, i)})
	}
	msg = engine.InputMessage(context.Background(), "in/0/1", many)
	if engine.RecordOf(msg) != many {
		t.Error("an unchanged message of many headers, repeats and an empty key does not give back its record")
	}
	msg.Metadata.Set("h3", "changed")
	if engine.RecordOf(msg) == many {
		t.Error("a changed header among many is not seen")
	}
	foreign := message.NewMessage("x", []byte(`{}`))
	foreign.Metadata.Set("z", "1")
	foreign.Metadata.Set("a", "2")
	if got := engine.RecordOf(foreign); list(got.Headers) != "a=2 z=1 " || got.Key != nil {
		t.Errorf("foreign message: %+v", got)
	}
}

// The traceparent the engine gives a record that has none does not change
// its message: the message still gives back the record, which keeps it for
// a redelivery, rather than a copy rebuilt from the metadata without it.
// A traceparent a middleware sets on the message does change it.
func TestRecordOfAfterTheEngine(t *testing.T) {
	e := newEngine(t, benchYAML, nil, nil)
	rec := &engine.Record{Topic: "in", Value: []byte(`{"amount":1,"user":"u"}`), Headers: transforms.HeadersOf("source", "x")}
	msg := engine.InputMessage(context.Background(), "in/0/0", rec)
	if _, err := e.HandlerFunc()(msg); err != nil {
		t.Fatal(err)
	}
	tp, ok := rec.Headers.Get(observe.TraceparentHeader)
	if !ok || !observe.ValidTraceparent(tp) {
		t.Fatalf("the engine gave the record no traceparent: %s", list(rec.Headers))
	}
	if got := engine.RecordOf(msg); got != rec {
		t.Fatalf("the message gives back a copy: %s", list(got.Headers))
	}
	msg.Metadata.Set(observe.TraceparentHeader, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	if got := engine.RecordOf(msg); got == rec {
		t.Fatal("a traceparent set on the message is not seen")
	}
}

// HandlerFunc returns the outputs, or the dead letter, as messages naming
// their topic.
func TestHandlerFunc(t *testing.T) {
	e := newEngine(t, benchYAML, nil, nil)
	h := e.HandlerFunc()
	outs, err := h(message.NewMessage("1", []byte(`{"amount":1,"user":"u"}`)))
	if err != nil || len(outs) != 1 || outs[0].Metadata.Get(engine.MetaDestination) != "out" {
		t.Fatalf("outputs %v, %v", outs, err)
	}
	outs, err = h(message.NewMessage("2", []byte(`nope`)))
	if err != nil || len(outs) != 1 || outs[0].Metadata.Get(engine.MetaDestination) != "dlq" || string(outs[0].Payload) != "nope" {
		t.Fatalf("dead letter %v, %v", outs, err)
	}
	if outs[0].Metadata.Get(engine.HeaderStep) != "decode" {
		t.Errorf("dead letter metadata %v", outs[0].Metadata)
	}
}
