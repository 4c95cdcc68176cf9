package transforms

import "slices"

// Header is one Kafka record header. Values are bytes, as Kafka has them;
// a transform must not change a Value in place (it may be shared with the
// input record, which a dead letter writes byte for byte): set a new one.
type Header struct {
	Key   string
	Value []byte
}

// Headers are a record's Kafka headers in their order, repeated keys kept,
// as Kafka carries them. The methods that read by key see the last value of
// a key, as most Kafka clients do.
type Headers []Header

// HeadersOf builds headers from key/value pairs (a test helper's shape):
// HeadersOf("a", "1", "b", "2"). It panics on an odd count.
func HeadersOf(kv ...string) Headers {
	if len(kv)%2 != 0 {
		panic("transforms.HeadersOf: odd number of arguments")
	}
	h := make(Headers, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		h = append(h, Header{Key: kv[i], Value: []byte(kv[i+1])})
	}
	return h
}

// Get returns the last value of key.
func (h Headers) Get(key string) (string, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Key == key {
			return string(h[i].Value), true
		}
	}
	return "", false
}

// Has reports whether key is present.
func (h Headers) Has(key string) bool {
	for i := range h {
		if h[i].Key == key {
			return true
		}
	}
	return false
}

// Set gives key the single value v: the first header with key keeps its
// place and takes v, later ones are removed; a new key is appended.
func (h *Headers) Set(key, v string) { h.SetBytes(key, []byte(v)) }

// SetBytes is Set with the value's bytes, which the headers keep.
func (h *Headers) SetBytes(key string, v []byte) {
	hs := *h
	i := slices.IndexFunc(hs, func(x Header) bool { return x.Key == key })
	if i < 0 {
		*h = append(hs, Header{Key: key, Value: v})
		return
	}
	hs[i].Value = v
	rest := slices.DeleteFunc(hs[i+1:], func(x Header) bool { return x.Key == key })
	*h = hs[:i+1+len(rest)]
}

// Add appends a header, keeping any with the same key.
func (h *Headers) Add(key, v string) {
	*h = append(*h, Header{Key: key, Value: []byte(v)})
}

// Del removes every header with key.
func (h *Headers) Del(key string) {
	h.DeleteFunc(func(k string) bool { return k == key })
}

// DeleteFunc removes every header whose key del reports.
func (h *Headers) DeleteFunc(del func(key string) bool) {
	*h = slices.DeleteFunc(*h, func(x Header) bool { return del(x.Key) })
}

// Map returns the headers as a map, the last value of a repeated key
// winning: for expressions and tests that look headers up by name.
func (h Headers) Map() map[string]string {
	m := make(map[string]string, len(h))
	for _, x := range h {
		m[x.Key] = string(x.Value)
	}
	return m
}

// Clone copies the list; values are shared. A record owns its list (Set
// and Del change it in place), so a record made from another clones it.
func (h Headers) Clone() Headers {
	if h == nil {
		return nil
	}
	return slices.Clone(h)
}
