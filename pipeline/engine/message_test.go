package engine_test

import (
	"context"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
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
	foreign := message.NewMessage("x", []byte(`{}`))
	foreign.Metadata.Set("z", "1")
	foreign.Metadata.Set("a", "2")
	if got := engine.RecordOf(foreign); list(got.Headers) != "a=2 z=1 " || got.Key != nil {
		t.Errorf("foreign message: %+v", got)
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
