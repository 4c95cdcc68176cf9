package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decodeForCompare parses a JSON object with numbers kept as written, so
// that outputs can be compared whatever their key order.
func decodeForCompare(t testing.TB, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("output %s: %v", b, err)
	}
	// 12.5 and 12.50 are the same number: compare numbers as float64 text.
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				m[k] = f
			}
		}
	}
	return m
}

// TestEditApproachesAgree runs every approach on generated events and
// checks they keep the same records and give the same values as the
// stdlib path Millrace uses.
func TestEditApproachesAgree(t *testing.T) {
	g := newGen(7)
	kept := 0
	for seq := range int64(5000) {
		_, src, pass := g.event(nil, seq, 1709283600123+seq)
		want, keep, err := editStdlib(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		if keep != pass {
			t.Fatalf("stdlib keep=%v, generator pass=%v for %s", keep, pass, src)
		}
		if keep {
			kept++
		}
		for _, a := range editApproaches[1:] {
			got, k, err := a.Edit([]byte("prefix"), src)
			if err != nil {
				t.Fatalf("%s: %v on %s", a.Name, err, src)
			}
			if k != keep {
				t.Fatalf("%s: keep=%v, stdlib %v on %s", a.Name, k, keep, src)
			}
			if !keep {
				continue
			}
			if !bytes.HasPrefix(got, []byte("prefix")) {
				t.Fatalf("%s: did not append to dst: %s", a.Name, got)
			}
			if w, g := decodeForCompare(t, want), decodeForCompare(t, got[len("prefix"):]); !reflect.DeepEqual(w, g) {
				t.Fatalf("%s differs on %s:\n stdlib %s\n %s %s", a.Name, src, want, a.Name, got[len("prefix"):])
			}
		}
	}
	if kept < 4000 || kept > 4800 {
		t.Fatalf("filter kept %d of 5000, expected about 90%%", kept)
	}
}

// TestEditEdgeCases documents where the approaches differ from the stdlib
// path (see README.md, "JSON").
func TestEditEdgeCases(t *testing.T) {
	cases := []struct {
		name, in string
	}{
		{"large integer", `{"amount":1,"id":12345678901234567890123}`},
		{"escaped key", `{"amount":1,"us\u0065r":"a"}`},
		{"invalid UTF-8", "{\"amount\":1,\"note\":\"\xff\"}"},
		{"duplicate key", `{"amount":1,"amount":-1}`},
		{"HTML characters", `{"amount":1,"note":"<a&b>"}`},
		{"bad literal inside debug", `{"amount":1,"debug":{"x":tru}}`},
		{"trailing data", `{"amount":1} x`},
		{"whitespace", "{ \"amount\" : 1 ,\n \"user\" : \"u\" }"},
		{"amount as string", `{"amount":"12.5"}`},
		{"float amount", `{"amount":0.29,"user":"u"}`},
	}
	for _, c := range cases {
		for _, a := range editApproaches {
			out, keep, err := a.Edit(nil, []byte(c.in))
			t.Logf("%-24s %-16s keep=%-5v err=%v out=%s", c.name, a.Name, keep, err, out)
		}
	}
	// The cases the README states, checked.
	mustEdit := func(name, in string) string {
		out, _, err := editScan(nil, []byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return string(out)
	}
	if got := mustEdit("large", `{"amount":1,"id":12345678901234567890123}`); !strings.Contains(got, "12345678901234567890123") {
		t.Errorf("scan lost a large integer: %s", got)
	}
	if got := mustEdit("order", `{"z":1,"amount":2,"user":"u","a":3}`); got != `{"z":1,"amount":2,"user_id":"u","a":3,"total_cents":200}` {
		t.Errorf("scan changed member order: %s", got)
	}
	if got := mustEdit("utf8", "{\"amount\":1,\"note\":\"\xff\"}"); !strings.Contains(got, "\xff") {
		t.Errorf("scan is expected to copy invalid UTF-8 as it is: %q", got)
	}
	if got, _, _ := editStdlib(nil, []byte("{\"amount\":1,\"note\":\"\xff\"}")); !strings.Contains(string(got), "\ufffd") {
		t.Errorf("stdlib is expected to replace invalid UTF-8 with U+FFFD: %q", got)
	}
	if _, _, err := editScan(nil, []byte(`{"amount":1} x`)); err == nil {
		t.Error("scan accepted trailing data")
	}
	if out, keep, _ := editScan(nil, []byte(`{"amount":0.29}`)); !keep || !strings.Contains(string(out), `"total_cents":28`) {
		t.Errorf("scan: int(0.29*100) must truncate to 28 like Millrace's int(): %s", out)
	}
	if out, _, _ := editStdlib(nil, []byte(`{"amount":0.29}`)); !strings.Contains(string(out), `"total_cents":28`) {
		t.Errorf("stdlib: int(0.29*100) = %s", out)
	}
}

// BenchmarkEdit measures each approach on the benchmark's events: the
// 4-step chain, output appended to a reused buffer.
//
//	go -C test/bench test . -run '^$' -bench Edit -benchmem
func BenchmarkEdit(b *testing.B) {
	g := newGen(3)
	var events [][]byte
	size := 0
	for seq := range int64(1024) {
		_, v, _ := g.event(nil, seq, 1709283600123+seq)
		events = append(events, v)
		size += len(v)
	}
	for _, a := range editApproaches {
		b.Run(a.Name, func(b *testing.B) {
			b.SetBytes(int64(size / len(events)))
			b.ReportAllocs()
			var dst []byte
			i := 0
			for b.Loop() {
				var err error
				dst, _, err = a.Edit(dst[:0], events[i%len(events)])
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
