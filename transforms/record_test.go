package transforms_test

import (
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

func TestRecordClone(t *testing.T) {
	v, err := codec.Decode([]byte(`{"a":{"b":[1,{"c":2}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	r := &transforms.Record{Value: v, Key: []byte("k")}
	r.Headers.Set("h", "v")
	c := r.Clone()
	c.Key[0] = 'x'
	c.Headers.Set("h", "changed")
	c.Value.(map[string]any)["a"].(map[string]any)["b"].([]any)[1].(map[string]any)["c"] = 99
	got, _ := codec.Encode(r.Value)
	if string(got) != `{"a":{"b":[1,{"c":2}]}}` || string(r.Key) != "k" || r.Headers.Map()["h"] != "v" {
		t.Errorf("Clone shares state with the original: %s %s %v", got, r.Key, r.Headers)
	}
	var noKey transforms.Record
	if noKey.Clone().Key != nil {
		t.Error("Clone of a nil key must stay nil")
	}
}
