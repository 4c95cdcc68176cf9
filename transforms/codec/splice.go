package codec

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"
)

// A chain that touches only some top-level fields of a record's object
// (transforms.TopLevel) need not have the whole value decoded and encoded
// again: Scan finds the object's members and validates the document
// without building values, Edit.Decode decodes the members the chain
// names, and Edit.Splice writes the output from the input's bytes, each
// member the chain does not change copied as read.
//
// The scanner is hand-written for the reason valueDecoder is: it does one
// job on the record path, in one pass and without allocating, which
// encoding/json's Valid (no member positions) and Decoder.Token (a token
// value per element) do not. It accepts no document Decode rejects
// (FuzzScanMatchesDecode), and it declines, with errUnspliced, the ones
// whose copied bytes could mean something else than Decode's reading:
// invalid UTF-8 and unpaired surrogate escapes (Decode makes them U+FFFD),
// escaped keys and repeated keys at any depth (Decode keeps the last).
// The caller then takes the full path.

// errUnspliced is a valid document that Scan leaves to the full path.
var errUnspliced = errors.New("codec: document left to the full decoder")

// ErrUnspliced reports whether err is Scan or Splice declining a document
// that is valid JSON, rather than a syntax error.
func ErrUnspliced(err error) bool { return errors.Is(err, errUnspliced) }

// Object is a JSON object scanned for its top-level members. An Object is
// reused: Scan replaces what it held. It refers to the scanned bytes.
type Object struct {
	data    []byte
	members []member
	keys    []span // keys of the objects being scanned, for repeats
	present []bool // per Edit field: a member has its name
	at      []int  // per Edit field present: its member's index
}

type span struct{ start, end int }

type member struct {
	key    span // without the quotes (which stand either side of it)
	val    span
	spaced bool // whitespace outside strings inside the value
	field  int  // index of the member's name in the Edit, or -1
}

// Len is the number of members.
func (o *Object) Len() int { return len(o.members) }

// Key is the name of member i.
func (o *Object) Key(i int) string { m := o.members[i]; return string(o.data[m.key.start:m.key.end]) }

// Raw is the value of member i as read.
func (o *Object) Raw(i int) []byte { m := o.members[i]; return o.data[m.val.start:m.val.end] }

// Reset drops the references to the scanned document.
func (o *Object) Reset() {
	o.data = nil
	o.members = o.members[:0]
	o.keys = o.keys[:0]
}

// Scan reads data, which must be a JSON object, and records its members.
// An error is either a document Decode rejects too (the full path gives
// the error message) or errUnspliced (ErrUnspliced).
func (o *Object) Scan(data []byte) error {
	o.Reset()
	o.data = data
	s := scanner{data: data, obj: o}
	s.space()
	if s.pos >= len(data) || data[s.pos] != '{' {
		return errSyntax // not an object, or not JSON: the full path says which
	}
	if err := s.object(true); err != nil {
		return err
	}
	s.space()
	if s.pos != len(data) {
		return errSyntax
	}
	if s.unusual {
		return errUnspliced
	}
	return nil
}

type scanner struct {
	data    []byte
	pos     int
	depth   int
	obj     *Object
	spaced  bool // whitespace skipped inside the current top-level value
	unusual bool
}

func (s *scanner) space() bool {
	data, pos := s.data, s.pos
	for pos < len(data) && (data[pos] == ' ' || data[pos] == '\t' || data[pos] == '\n' || data[pos] == '\r') {
		pos++
	}
	moved := pos != s.pos
	s.pos = pos
	return moved
}

// inner skips whitespace inside a top-level member's value.
func (s *scanner) inner() {
	if s.space() {
		s.spaced = true
	}
}

func (s *scanner) value() error {
	if s.pos >= len(s.data) {
		return errSyntax
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(false)
	case c == '[':
		return s.array()
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return errSyntax
}

func (s *scanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return errSyntax
	}
	s.pos += len(word)
	return nil
}

// maxLinearKeys: an object with more keys finds repeats with a map.
const maxLinearKeys = 16

// object scans an object; top records its members in s.obj.
func (s *scanner) object(top bool) error {
	if s.depth++; s.depth > maxDepth {
		return errSyntax
	}
	s.pos++ // {
	o := s.obj
	start := len(o.keys)
	var seen map[string]struct{}
	var hashes uint64 // a bit per key seen (keyBit): most keys need no comparison
	s.inner()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		s.inner()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return errSyntax
		}
		kstart := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		if escaped {
			s.unusual = true // compare and copy keys as read only
		}
		key := span{kstart + 1, s.pos - 1}
		k := s.data[key.start:key.end]
		// A repeated key: Decode keeps the last value, a copy would keep both.
		switch n := len(o.keys) - start; {
		case seen != nil:
			if _, dup := seen[string(k)]; dup {
				s.unusual = true
			}
			seen[string(k)] = struct{}{}
		case n < maxLinearKeys:
			if bit := keyBit(k); hashes&bit == 0 {
				hashes |= bit
			} else {
				for _, p := range o.keys[start:] {
					if bytes.Equal(s.data[p.start:p.end], k) {
						s.unusual = true
					}
				}
			}
			o.keys = append(o.keys, key)
		default:
			seen = make(map[string]struct{}, 2*maxLinearKeys)
			for _, p := range o.keys[start:] {
				seen[string(s.data[p.start:p.end])] = struct{}{}
			}
			if _, dup := seen[string(k)]; dup {
				s.unusual = true
			}
			seen[string(k)] = struct{}{}
		}
		s.inner()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return errSyntax
		}
		s.pos++
		if top {
			s.space()
			s.spaced = false
		} else {
			s.inner()
		}
		vstart := s.pos
		if err := s.value(); err != nil {
			return err
		}
		if top {
			o.members = append(o.members, member{key: key, val: span{vstart, s.pos}, spaced: s.spaced, field: -1})
			s.space()
		} else {
			s.inner()
		}
		if s.pos >= len(s.data) {
			return errSyntax
		}
		c := s.data[s.pos]
		s.pos++
		if c == '}' {
			break
		}
		if c != ',' {
			return errSyntax
		}
	}
	o.keys = o.keys[:start]
	s.depth--
	return nil
}

// keyBit is one of 64 bits for a key, from its length and its first and
// last bytes: keys with different bits differ.
func keyBit(k []byte) uint64 {
	h := uint(len(k))
	if len(k) > 0 {
		h = h*31 + uint(k[0])*7 + uint(k[len(k)-1])
	}
	return 1 << (h & 63)
}

func (s *scanner) array() error {
	if s.depth++; s.depth > maxDepth {
		return errSyntax
	}
	s.pos++ // [
	s.inner()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		s.inner()
		if err := s.value(); err != nil {
			return err
		}
		s.inner()
		if s.pos >= len(s.data) {
			return errSyntax
		}
		c := s.data[s.pos]
		s.pos++
		if c == ']' {
			break
		}
		if c != ',' {
			return errSyntax
		}
	}
	s.depth--
	return nil
}

// str scans a string and says whether it has escapes. Invalid UTF-8 and
// unpaired surrogate escapes make the document unusual.
func (s *scanner) str() (escaped bool, err error) {
	s.pos++ // "
	start, ascii := s.pos, true
	for s.pos < len(s.data) {
		s.pos = plainEnd(s.data, s.pos)
		if s.pos >= len(s.data) {
			break
		}
		c := s.data[s.pos]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(s.data[start:s.pos]) {
				s.unusual = true
			}
			s.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			if err := s.escape(); err != nil {
				return false, err
			}
			continue
		case c < 0x20:
			return false, errSyntax
		case c >= 0x80:
			ascii = false
		}
		s.pos++
	}
	return false, errSyntax
}

// escape scans the escape at s.pos.
func (s *scanner) escape() error {
	if s.pos+1 >= len(s.data) {
		return errSyntax
	}
	switch s.data[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return nil
	case 'u':
		r, ok := s.hex4(s.pos + 2)
		if !ok {
			return errSyntax
		}
		s.pos += 6
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
				if lo, ok := s.hex4(s.pos + 2); ok && lo >= 0xDC00 && lo < 0xE000 {
					s.pos += 6
					return nil
				}
			}
			s.unusual = true
		case r >= 0xDC00 && r < 0xE000:
			s.unusual = true
		}
		return nil
	}
	return errSyntax
}

func (s *scanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number scans a number in JSON's grammar.
func (s *scanner) number() error {
	if s.data[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case s.pos < len(s.data) && s.data[s.pos] >= '1' && s.data[s.pos] <= '9':
		s.digits()
	default:
		return errSyntax
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return errSyntax
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return errSyntax
		}
	}
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}

// Edit is what a chain does to the top-level fields of its records
// (transforms.Fields), compiled once: the fields to decode, which of them
// may change, which are only removed, and whether the fields the chain
// does not name are removed.
type Edit struct {
	names []string
	kinds []fieldKind
	only  bool
	// mask has the keyBit of every name: a key whose bit is not in it is
	// no name, without a comparison.
	mask uint64
	// keys is each name as an output member's key: quoted as Encode
	// writes it, and the colon.
	keys []string
	// sorted is the indexes of names, sorted by name: the order in which
	// Splice adds the ones the input did not have.
	sorted []int
	// from is, for a field Move writes to, the index of the field whose
	// value it takes; -1 for the others.
	from  []int
	moves bool
}

type fieldKind uint8

const (
	fieldRead      fieldKind = iota // decoded, copied as read if still there
	fieldWrite                      // decoded, encoded from the result
	fieldDeleted                    // not decoded, left out
	fieldMovedFrom                  // not decoded, left out: its value goes to another name (Move)
	fieldMovedTo                    // not decoded: takes a moved value, or stays as read
)

// NewEdit compiles an Edit from the fields a chain reads, writes and only
// deletes (the three lists are disjoint, as transforms.Fields.Merge makes
// them; a repeat counts as its first kind, writes first); only: the fields
// not named are removed.
func NewEdit(reads, writes, deletes []string, only bool) *Edit {
	e := &Edit{only: only}
	add := func(names []string, k fieldKind) {
		for _, n := range names {
			if !slices.Contains(e.names, n) {
				e.names = append(e.names, n)
				e.kinds = append(e.kinds, k)
			}
		}
	}
	add(writes, fieldWrite)
	add(deletes, fieldDeleted)
	add(reads, fieldRead)
	e.derive()
	return e
}

// derive fills in what e derives from its names: the mask, the sorted
// order, and no move for the names Move did not add.
func (e *Edit) derive() {
	e.mask, e.sorted, e.keys = 0, e.sorted[:0], e.keys[:0]
	for i, n := range e.names {
		e.mask |= keyBit([]byte(n))
		e.sorted = append(e.sorted, i)
		e.keys = append(e.keys, string(append(appendString(nil, n), ':')))
	}
	slices.SortFunc(e.sorted, func(a, b int) int { return strings.Compare(e.names[a], e.names[b]) })
	for len(e.from) < len(e.names) {
		e.from = append(e.from, -1)
	}
}

// Move makes e rename the top-level field from to `to`, its value copied
// as read, without the chain running on either: what a rename of
// top-level fields does to the map. The output leaves from out; when the
// input has from, `to` holds its value, in the place of the input's own
// `to` if it had one, else among the fields added, in sorted order; when
// the input has no from, its `to`, if any, stays as it was. Neither name
// may be one e has already, nor the same as the other. Move returns e; it
// must be called before e is used.
func (e *Edit) Move(from, to string) *Edit {
	if from == to || slices.Contains(e.names, from) || slices.Contains(e.names, to) {
		panic("codec: Move of a field the edit names already: " + from + " → " + to)
	}
	e.names = append(e.names, from, to)
	e.kinds = append(e.kinds, fieldMovedFrom, fieldMovedTo)
	e.from = append(e.from, -1, len(e.names)-2)
	e.moves = true
	e.derive()
	return e
}

func (e *Edit) index(k []byte) int {
	if keyBit(k)&e.mask == 0 {
		return -1
	}
	for i, n := range e.names {
		if len(n) == len(k) && n == string(k) {
			return i
		}
	}
	return -1
}

func (e *Edit) indexString(k string) int {
	for i, n := range e.names {
		if n == k {
			return i
		}
	}
	return -1
}

// Decode returns the members of o that e names, decoded as Decode does,
// in a new map. It must be called before Splice.
func (e *Edit) Decode(o *Object) (map[string]any, error) { return e.DecodeInto(o, nil) }

// DecodeInto is Decode into m, which must be empty (a new map when nil): a
// caller that is done with the last record's map reuses it.
func (e *Edit) DecodeInto(o *Object, m map[string]any) (map[string]any, error) {
	o.present = append(o.present[:0], make([]bool, len(e.names))...)
	if len(o.at) < len(e.names) {
		o.at = make([]int, len(e.names))
	}
	if m == nil {
		m = make(map[string]any, len(e.names))
	}
	var d *valueDecoder
	for i := range o.members {
		mb := &o.members[i]
		mb.field = e.index(o.data[mb.key.start:mb.key.end])
		if mb.field < 0 {
			continue
		}
		o.present[mb.field] = true
		o.at[mb.field] = i
		if k := e.kinds[mb.field]; k == fieldDeleted || k == fieldMovedFrom || k == fieldMovedTo {
			continue
		}
		if d == nil {
			d = decoders.Get().(*valueDecoder)
			d.data = o.data
		}
		d.pos, d.depth = mb.val.start, 1
		v, err := d.value()
		if err != nil {
			// Scan accepted it; only a decoder that disagrees gets here.
			release(d)
			return nil, errUnspliced
		}
		m[e.names[mb.field]] = v
	}
	if d != nil {
		release(d)
	}
	return m, nil
}

func release(d *valueDecoder) {
	d.data = nil
	clear(d.pairs[:cap(d.pairs)])
	d.pairs = d.pairs[:0]
	decoders.Put(d)
}

// Splice appends to dst the output object for v, the map Decode returned
// after the chain ran: the members of o in their order, those e does not
// name copied as read (whitespace outside strings removed; removed
// altogether when the edit keeps only its fields), those it names taken
// from v (copied as read when only read, encoded when written, left out
// when v no longer has them) or moved (Move); then the fields of v the
// input did not have, and the moved ones it did not have, in sorted
// order, encoded as Encode does. An encoding error is Encode's;
// errUnspliced means v holds a field of the input that e does not name,
// or one e moves (a transform that broke its TopLevel promise).
func (e *Edit) Splice(dst []byte, o *Object, v map[string]any) ([]byte, error) {
	b := append(dst, '{')
	wrote := false // a member is in b
	kept := 0      // members of o that v still has
	// run is the input's bytes of members copied as they are, not yet in
	// b: consecutive members with nothing but a comma between them, as a
	// compact input has them, go in with one copy.
	run := span{-1, -1}
	var err error
	for i := range o.members {
		mb := &o.members[i]
		val := mb // the member whose value is copied
		var x any
		encode := false
		if mb.field >= 0 {
			switch e.kinds[mb.field] {
			case fieldMovedFrom:
				continue // written under its new name
			case fieldMovedTo:
				if from := e.from[mb.field]; o.present[from] {
					val = &o.members[o.at[from]]
				}
			default:
				var ok bool
				if x, ok = v[e.names[mb.field]]; !ok {
					continue
				}
				kept++
				encode = e.kinds[mb.field] != fieldRead
			}
		} else if e.only {
			continue
		}
		if !encode && val == mb && !mb.spaced && mb.val.start == mb.key.end+2 {
			// "key":value exactly as read
			if run.end >= 0 && run.end == mb.key.start-2 && o.data[run.end] == ',' {
				run.end = mb.val.end
				continue
			}
			b, wrote = o.appendRun(b, run, wrote)
			run = span{mb.key.start - 1, mb.val.end}
			continue
		}
		b, wrote = o.appendRun(b, run, wrote)
		run = span{-1, -1}
		if wrote {
			b = append(b, ',')
		}
		wrote = true
		b = append(b, o.data[mb.key.start-1:mb.key.end+1]...) // with its quotes
		b = append(b, ':')
		if encode {
			if b, err = appendAny(b, x); err != nil {
				return nil, err
			}
			continue
		}
		b = o.appendRaw(b, val)
	}
	b, wrote = o.appendRun(b, run, wrote)
	n := 0
	if wrote {
		n = 1 // the members added below come after a comma
	}
	if len(v) == kept && !e.moves {
		return append(b, '}'), nil
	}
	// The fields v has that the input did not, and the moved ones: when
	// v's are all named by e, they are added in e's sorted order without
	// a walk of v.
	var buf [8]int
	var xbuf [8]any
	added, values := buf[:0], xbuf[:0] // values: v's value of each added field, nil for a move
	fromV := 0
	for _, f := range e.sorted {
		if o.present[f] {
			continue
		}
		switch e.kinds[f] {
		case fieldMovedFrom:
		case fieldMovedTo:
			if o.present[e.from[f]] {
				added, values = append(added, f), append(values, nil)
			}
		default:
			if x, ok := v[e.names[f]]; ok {
				added, values = append(added, f), append(values, x)
				fromV++
			}
		}
	}
	if kept+fromV == len(v) {
		for j, f := range added {
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, e.keys[f]...)
			if e.kinds[f] == fieldMovedTo {
				b = o.appendRaw(b, &o.members[o.at[e.from[f]]])
				continue
			}
			if b, err = appendAny(b, values[j]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	// Else v has fields e does not name: walk it.
	var names [8]string
	keys := names[:0]
	for k := range v {
		f := e.indexString(k)
		switch {
		case f >= 0 && (e.kinds[f] == fieldMovedFrom || e.kinds[f] == fieldMovedTo):
			return nil, errUnspliced
		case f >= 0 && o.present[f]:
			continue
		case f < 0:
			for _, mb := range o.members {
				if string(o.data[mb.key.start:mb.key.end]) == k {
					return nil, errUnspliced
				}
			}
		}
		keys = append(keys, k)
	}
	for _, f := range added {
		if e.kinds[f] == fieldMovedTo {
			keys = append(keys, e.names[f])
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendString(b, k)
		b = append(b, ':')
		if f := e.indexString(k); f >= 0 && e.kinds[f] == fieldMovedTo {
			b = o.appendRaw(b, &o.members[o.at[e.from[f]]])
			continue
		}
		if b, err = appendAny(b, v[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendRun appends the members of run (none when run.end < 0), after a
// comma when a member was written already, and reports whether one was.
func (o *Object) appendRun(b []byte, run span, wrote bool) ([]byte, bool) {
	if run.end < 0 {
		return b, wrote
	}
	if wrote {
		b = append(b, ',')
	}
	return append(b, o.data[run.start:run.end]...), true
}

// appendRaw appends the value of member mb as read, without whitespace
// outside its strings.
func (o *Object) appendRaw(b []byte, mb *member) []byte {
	if mb.spaced {
		return appendCompact(b, o.data[mb.val.start:mb.val.end])
	}
	return append(b, o.data[mb.val.start:mb.val.end]...)
}

// appendAny appends v as Encode writes it.
func appendAny(b []byte, v any) ([]byte, error) {
	n := len(b)
	out, err := appendValue(b, v)
	if err == nil {
		return out, nil
	}
	enc, err := encodeStd(v)
	if err != nil {
		return nil, err
	}
	return append(b[:n], enc...), nil
}

// appendCompact appends a valid JSON value without the whitespace outside
// its strings.
func appendCompact(b, raw []byte) []byte {
	in := false
	start := 0
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			b = append(b, raw[start:i]...)
			start = i + 1
		}
	}
	return append(b, raw[start:]...)
}
