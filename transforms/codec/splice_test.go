package codec

import (
	"reflect"
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	deep := func(n int) string { return `{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}` }
	for _, c := range []struct {
		doc  string
		keys []string // nil: rejected
		// unspliced: valid JSON the scan leaves to the full path
		unspliced bool
	}{
		{doc: `{}`, keys: []string{}},
		{doc: ` { "b" : 1 , "a" : [ 1 , { "x" : "y z" } ] } `, keys: []string{"b", "a"}},
		{doc: `{"id":"e","n":-0.5e+3,"t":true,"f":false,"z":null,"o":{},"l":[]}`, keys: []string{"id", "n", "t", "f", "z", "o", "l"}},
		{doc: `{"a":"\"\\\/\b\f\n\r\t\u00e9\uD834\uDD1E"}`, keys: []string{"a"}},
		{doc: `{"a":"é ✓"}`, keys: []string{"a"}},
		{doc: deep(maxDepth - 1), keys: []string{"a"}},
		// Repeated keys, at any depth: Decode keeps the last.
		{doc: `{"a":1,"a":2}`, unspliced: true},
		{doc: `{"a":{"b":1,"b":2}}`, unspliced: true},
		{doc: `{"a":[{"b":1,"c":2},{"b":1}]}`, keys: []string{"a"}},
		{doc: `{` + manyKeys(40) + `,"k07":0}`, unspliced: true},
		{doc: `{"o":{` + manyKeys(40) + `,"k39":0}}`, unspliced: true},
		// Escaped keys are compared and copied as read only.
		{doc: `{"\u0061":1}`, unspliced: true},
		{doc: `{"a":{"b\n":1}}`, unspliced: true},
		// Decode turns these into U+FFFD.
		{doc: "{\"a\":\"\xff\"}", unspliced: true},
		{doc: "{\"\xc0\":1}", unspliced: true},
		{doc: `{"a":"\ud800"}`, unspliced: true},
		{doc: `{"a":"\ud800\u0041"}`, unspliced: true},
		{doc: `{"a":"\udc00"}`, unspliced: true},
		// Rejected as Decode rejects them.
		{doc: deep(maxDepth)}, {doc: ``}, {doc: `[1]`}, {doc: `"s"`}, {doc: `null`}, {doc: `{`}, {doc: `{"a":1}x`},
		{doc: `{"a":1}{}`}, {doc: `{"a":}`}, {doc: `{"a":01}`}, {doc: `{"a":1.}`}, {doc: `{"a":.5}`}, {doc: `{"a":+1}`},
		{doc: `{"a":1e}`}, {doc: `{"a":-}`}, {doc: `{"a":"\x"}`}, {doc: `{"a":"\u12"}`}, {doc: `{"a":"\u12G4"}`},
		{doc: "{\"a\":\"\x01\"}"}, {doc: `{"a":NaN}`}, {doc: `{"a":1,}`}, {doc: `{"a":[1,]}`}, {doc: `{"a":tru}`},
		{doc: `{a:1}`}, {doc: `{"a" 1}`}, {doc: `{"a":1 "b":2}`}, {doc: `{"a":"`}, {doc: `{"a":[`}, {doc: `{"a":{"b"}}`},
	} {
		var o Object
		err := o.Scan([]byte(c.doc))
		_, decErr := Decode([]byte(c.doc))
		switch {
		case c.unspliced:
			if !ErrUnspliced(err) || decErr != nil {
				t.Errorf("Scan(%.60q) = %v (Decode: %v), want it left to the full path", c.doc, err, decErr)
			}
		case c.keys == nil:
			if err == nil || ErrUnspliced(err) {
				t.Errorf("Scan(%.60q) = %v, want a syntax error", c.doc, err)
			}
		case err != nil:
			t.Errorf("Scan(%.60q) = %v", c.doc, err)
		default:
			var keys []string
			for i := range o.Len() {
				keys = append(keys, o.Key(i))
			}
			if len(keys) != len(c.keys) || (len(keys) > 0 && !reflect.DeepEqual(keys, c.keys)) {
				t.Errorf("Scan(%.60q) keys %q, want %q", c.doc, keys, c.keys)
			}
		}
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k`)
		b.WriteString(string(rune('0' + i/10)))
		b.WriteString(string(rune('0' + i%10)))
		b.WriteString(`":0`)
	}
	return b.String()
}

func TestSplice(t *testing.T) {
	for _, c := range []struct {
		doc                    string
		reads, writes, deletes []string
		only                   bool
		edit                   func(m map[string]any)
		want                   string
	}{
		{doc: ` { "b" : [ 1 , "x y" ] , "a" : 1.50 } `, want: `{"b":[1,"x y"],"a":1.50}`},
		{doc: `{"b":2,"amount":1.50,"debug":{"x":1},"user":"u"}`, reads: []string{"amount"}, writes: []string{"total", "user", "user_id"}, deletes: []string{"debug"},
			edit: func(m map[string]any) {
				if _, ok := m["debug"]; ok {
					panic("a deleted field was decoded")
				}
				m["total"] = 150
				m["user_id"] = m["user"]
				delete(m, "user")
			},
			want: `{"b":2,"amount":1.50,"total":150,"user_id":"u"}`},
		// Written fields are encoded in their place, new ones sorted at the end.
		{doc: `{"z":{"b":1, "a":2},"y":0}`, writes: []string{"z", "n", "m"}, edit: func(m map[string]any) {
			m["n"], m["m"] = "<&>", 1e21
			m["z"].(map[string]any)["c"] = 3
		}, want: `{"z":{"a":2,"b":1,"c":3},"y":0,"m":1e+21,"n":"<&>"}`},
		// A field the edit does not name, added beside one it names: all
		// the added fields still come in sorted order.
		{doc: `{"a":1}`, writes: []string{"c"}, edit: func(m map[string]any) { m["c"], m["b"] = 3, 2 },
			want: `{"a":1,"b":2,"c":3}`},
		// Only: the fields not named go; a read field is copied if kept.
		{doc: `{"a":1.0,"b":2,"c":3}`, reads: []string{"a", "c"}, only: true, edit: func(m map[string]any) { delete(m, "c") },
			want: `{"a":1.0}`},
	} {
		var o Object
		if err := o.Scan([]byte(c.doc)); err != nil {
			t.Fatalf("Scan(%s): %v", c.doc, err)
		}
		e := NewEdit(c.reads, c.writes, c.deletes, c.only)
		m, err := e.Decode(&o)
		if err != nil {
			t.Fatal(err)
		}
		if c.edit != nil {
			c.edit(m)
		}
		got, err := e.Splice(nil, &o, m)
		if err != nil || string(got) != c.want {
			t.Errorf("Splice(%s) = %s, %v; want %s", c.doc, got, err, c.want)
		}
	}
}

// A value no encoder writes gives Encode's error; a field of the input
// the edit does not name is a broken promise, left to the full path.
func TestSpliceErrors(t *testing.T) {
	var o Object
	if err := o.Scan([]byte(`{"a":1,"b":2}`)); err != nil {
		t.Fatal(err)
	}
	e := NewEdit(nil, []string{"a"}, nil, false)
	m, _ := e.Decode(&o)
	m["a"] = make(chan int)
	_, want := Encode(map[string]any{"a": make(chan int)})
	if _, err := e.Splice(nil, &o, m); err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("Splice of a channel: %v, want %v", err, want)
	}
	m["a"], m["b"] = 1, 3
	if _, err := e.Splice(nil, &o, m); !ErrUnspliced(err) {
		t.Errorf("Splice of an undeclared input field: %v", err)
	}
}

// FuzzScanMatchesDecode holds the scanner to Decode: what it accepts
// Decode accepts, as an object with the same members; spliced without
// edits, the output decodes to the same value.
func FuzzScanMatchesDecode(f *testing.F) {
	for _, s := range codecSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(` { "b" : [ 1 , { "x" : "y z" } ] , "a" : 1.50 } `))
	f.Fuzz(func(t *testing.T, data []byte) {
		var o Object
		err := o.Scan(data)
		v, decErr := Decode(data)
		if err != nil {
			if !ErrUnspliced(err) {
				return
			}
			if decErr != nil {
				t.Fatalf("Scan(%q) declined a document Decode rejects: %v", data, decErr)
			}
			return
		}
		m, ok := v.(map[string]any)
		if decErr != nil || !ok {
			t.Fatalf("Scan(%q) accepted; Decode: %#v, %v", data, v, decErr)
		}
		if o.Len() != len(m) {
			t.Fatalf("Scan(%q): %d members, Decode %d", data, o.Len(), len(m))
		}
		names := make([]string, o.Len())
		for i := range o.Len() {
			names[i] = o.Key(i)
			want, ok := m[names[i]]
			got, err := Decode(o.Raw(i))
			if !ok || err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("Scan(%q): member %q = %s, Decode has %#v", data, names[i], o.Raw(i), want)
			}
		}
		// Copied, the members decode as they did; written, as Encode's
		// output of them does (-1e-400 is -0 in float64, written "-0",
		// read back as the integer 0).
		enc, err := Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		rewritten, _ := Decode(enc)
		for i, e := range []*Edit{NewEdit(nil, nil, nil, false), NewEdit(names, nil, nil, false), NewEdit(nil, names, nil, false)} {
			want := v
			if i == 2 {
				want = rewritten
			}
			dm, err := e.Decode(&o)
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Splice(nil, &o, dm)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := Decode(out); err != nil || !reflect.DeepEqual(back, want) {
				t.Fatalf("Splice(%q) = %s, which decodes to %#v (%v)", data, out, back, err)
			}
		}
	})
}

// Move writes what a rename on the decoded map writes, byte for byte,
// without decoding either field: the moved value as read (compacted), in
// the place of the input's own field of the new name, else among the
// added fields in sorted order; a missing source leaves the target as it
// was. (A moved number keeps its digits, as a field no step names does,
// where the map writes it back through float64: TestMoveDigits.)
func TestMove(t *testing.T) {
	docs := []string{
		`{"b":2,"amount":1.50,"debug":{"x":1},"user":"u"}`,
		`{"user":{"n" : [1, 2.5, "x\"y"]},"amount":3}`,
		`{"user_id":"old","x":1,"user":"new"}`,
		`{"user_id":"old","x":1}`,
		`{"a":1}`,
		`{"zz":true,"user":null,"amount":-1}`,
		` { "user" : "a b" , "user_id" : [ 1 ] } `,
	}
	for _, doc := range docs {
		var o Object
		if err := o.Scan([]byte(doc)); err != nil {
			t.Fatalf("Scan(%s): %v", doc, err)
		}
		// The chain: set total from amount, rename user to user_id, drop
		// debug; the rename either on the map or moved.
		set := func(m map[string]any) {
			if a, ok := m["amount"].(float64); ok {
				m["total"] = a * 100
			}
		}
		onMap := NewEdit([]string{"amount"}, []string{"total", "user", "user_id"}, []string{"debug"}, false)
		m, err := onMap.Decode(&o)
		if err != nil {
			t.Fatal(err)
		}
		set(m)
		if v, ok := m["user"]; ok {
			delete(m, "user")
			m["user_id"] = v
		}
		want, err := onMap.Splice(nil, &o, m)
		if err != nil {
			t.Fatal(err)
		}

		moved := NewEdit([]string{"amount"}, []string{"total"}, []string{"debug"}, false).Move("user", "user_id")
		m, err = moved.Decode(&o)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m["user"]; ok {
			t.Fatalf("%s: the moved field was decoded", doc)
		}
		set(m)
		got, err := moved.Splice(nil, &o, m)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: moved %s, %v; on the map %s", doc, got, err, want)
		}
		// A field v has that the edit does not name takes the walk of
		// v: the moved field still comes in its sorted place.
		m["aaa"] = 1
		m["zzz"] = 2
		got, err = moved.Splice(nil, &o, m)
		m2, _ := onMap.Decode(&o)
		set(m2)
		if v, ok := m2["user"]; ok {
			delete(m2, "user")
			m2["user_id"] = v
		}
		m2["aaa"], m2["zzz"] = 1, 2
		want, _ = onMap.Splice(nil, &o, m2)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s with undeclared fields: moved %s, %v; on the map %s", doc, got, err, want)
		}
		// A chain that writes a moved field broke its promise.
		m["user_id"] = "x"
		if _, err := moved.Splice(nil, &o, m); !ErrUnspliced(err) {
			t.Errorf("%s: a moved field in the map: %v", doc, err)
		}
	}
}

func TestMoveDigits(t *testing.T) {
	var o Object
	if err := o.Scan([]byte(`{"user":{"n" : [1, 2.50, 123456789012345678901234567890]},"a":1}`)); err != nil {
		t.Fatal(err)
	}
	e := NewEdit(nil, nil, nil, false).Move("user", "user_id")
	m, err := e.Decode(&o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Splice(nil, &o, m)
	if want := `{"a":1,"user_id":{"n":[1,2.50,123456789012345678901234567890]}}`; err != nil || string(got) != want {
		t.Errorf("got %s, %v; want %s", got, err, want)
	}
}
