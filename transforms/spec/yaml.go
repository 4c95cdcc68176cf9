package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v4"
	"go.yaml.in/yaml/v4/plugin/loaderlimits"
)

// MaxDepth is the deepest nesting of lists and mappings that ParseYAML
// accepts. A config nests six levels deep, a test record or a JSON Schema
// rarely more than twenty; a hundred leaves room for both while refusing,
// in the scanner and so before any tree is built, the deep input
// (`[[[[...` or `{a: {a: ...`) whose only purpose is to use memory and
// stack.
const MaxDepth = 100

// LookupEnv finds an environment variable, as os.LookupEnv does.
type LookupEnv func(name string) (string, bool)

// ParseYAML parses one YAML document into a positioned Value, expanding
// ${VAR} and ${VAR:-default} in scalars with lookup (nil: no interpolation).
// A syntax error stops parsing; every other problem is collected.
//
// The YAML is read as YAML 1.2 (go.yaml.in/yaml/v4): yes, no, on and off
// are strings, only true and false are booleans. Aliases are refused (see
// convert), so there is nothing to expand; nesting deeper than MaxDepth is
// refused.
func ParseYAML(file string, data []byte, lookup LookupEnv) (*Value, Errors) {
	c := converter{file: file, lookup: lookup, src: data}
	l, err := yaml.NewLoader(bytes.NewReader(data), yaml.WithPlugin(loaderlimits.New(loaderlimits.DepthValue(MaxDepth))))
	if err != nil {
		return nil, Errors{{Pos: Pos{File: file}, Msg: "YAML: " + err.Error()}}
	}
	var first *yaml.Node
	docs := 0
	var second Pos
	for {
		var doc yaml.Node
		err := l.Load(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, Errors{c.syntaxError(err)}
		}
		docs++
		switch docs {
		case 1:
			first = &doc
		case 2:
			second = Pos{File: file, Line: doc.Line, Col: doc.Column}
		}
	}
	if first == nil || len(first.Content) == 0 || isEmptyDocument(first.Content[0]) {
		if docs <= 1 {
			return &Value{Pos: Pos{File: file, Line: 1, Col: 1}, Kind: KindNull}, nil
		}
	}
	if docs > 1 {
		if second.Line == 0 {
			second = Pos{File: file, Line: 1, Col: 1}
		}
		c.errs = append(c.errs, &Error{Pos: second, Msg: "expected one YAML document, found " + fmt.Sprint(docs), Hint: "remove the --- separator and what follows, or put the pipelines in one list"})
	}
	var body *yaml.Node
	if len(first.Content) > 0 {
		body = first.Content[0]
	}
	v := c.convert(body, 1)
	return v, c.errs
}

// isEmptyDocument reports a document with nothing in it: "---" alone.
func isEmptyDocument(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" && n.Style == 0
}

func (c *converter) syntaxError(err error) *Error {
	var le *yaml.LoadError
	if !errors.As(err, &le) || le.Mark.Line == 0 {
		return &Error{Pos: Pos{File: c.file}, Msg: "YAML syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	p := Pos{File: c.file, Line: le.Mark.Line, Col: max(le.Mark.Column, 1)}
	if strings.HasPrefix(le.Message, "exceeded max depth") {
		return &Error{Pos: p, Msg: fmt.Sprintf("YAML nests deeper than %d levels", MaxDepth), Hint: "flatten the structure"}
	}
	msg := "YAML syntax: " + le.Message
	if le.ContextMsg != "" && le.ContextMark.Line > 0 && le.ContextMark != le.Mark {
		cp := Pos{File: c.file, Line: le.ContextMark.Line, Col: max(le.ContextMark.Column, 1)}
		msg += ", " + le.ContextMsg + " that starts at " + cp.String()
	}
	e := &Error{Pos: p, Msg: msg}
	line := c.line(p.Line)
	switch {
	case c.byteAt(p) == '\t' || (strings.Contains(le.Message, "tab") && strings.Contains(line, "\t")):
		e.Hint = "indent with spaces: YAML does not allow tabs there"
	case strings.Contains(line, "${"):
		// A plain ${NAME} inside {...} or [...] is a YAML error, since { and
		// } are flow indicators there; the parser's message does not say so.
		e.Hint = `inside {...} or [...], quote a value that uses ${...}: "${NAME}"`
	}
	return e
}

type converter struct {
	file   string
	lookup LookupEnv
	src    []byte
	lines  []int // byte offsets of line starts, built on first use
	errs   Errors
	deep   bool // the depth error was reported
}

func (c *converter) pos(n *yaml.Node) Pos {
	if n == nil || n.Line == 0 {
		return Pos{File: c.file}
	}
	return Pos{File: c.file, Line: n.Line, Col: n.Column}
}

// line returns line n (from 1) of the source, without its newline.
func (c *converter) line(n int) string {
	if c.lines == nil {
		c.lines = []int{0}
		for i, b := range c.src {
			if b == '\n' {
				c.lines = append(c.lines, i+1)
			}
		}
	}
	if n < 1 || n > len(c.lines) {
		return ""
	}
	s := c.src[c.lines[n-1]:]
	if i := bytes.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return string(s)
}

// from returns the source from p (columns count characters) to the end of
// its line.
func (c *converter) from(p Pos) string {
	s := c.line(p.Line)
	for col := 1; col < p.Col && s != ""; col++ {
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
	}
	return s
}

func (c *converter) byteAt(p Pos) byte {
	if s := c.from(p); s != "" {
		return s[0]
	}
	return 0
}

// convert turns a node at a depth (the root is 1) into a Value.
func (c *converter) convert(n *yaml.Node, depth int) *Value {
	if n == nil {
		return &Value{Kind: KindNull}
	}
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && depth > MaxDepth {
		// The parser bounds block and flow nesting each; this bounds the two
		// together.
		if !c.deep {
			c.deep = true
			c.errs = append(c.errs, &Error{Pos: c.pos(n), Msg: fmt.Sprintf("YAML nests deeper than %d levels", MaxDepth), Hint: "flatten the structure"})
		}
		return &Value{Pos: c.pos(n), Kind: KindNull, Failed: true}
	}
	if err := c.checkTag(n); err != nil {
		c.errs = append(c.errs, err)
		return &Value{Pos: c.pos(n), Kind: KindNull, Failed: true}
	}
	switch n.Kind {
	case yaml.MappingNode:
		v := &Value{Pos: c.pos(n), Kind: KindMap}
		var seen map[string]*Value // keys, once the mapping is large
		for i := 0; i+1 < len(n.Content); i += 2 {
			c.addEntry(v, n.Content[i], n.Content[i+1], depth, &seen)
		}
		return v
	case yaml.SequenceNode:
		v := &Value{Pos: c.pos(n), Kind: KindList, Items: make([]*Value, 0, len(n.Content))}
		for _, it := range n.Content {
			v.Items = append(v.Items, c.convert(it, depth+1))
		}
		return v
	case yaml.AliasNode:
		// Refusing aliases keeps one place in the file for every value, and
		// leaves nothing to expand: a "billion laughs" file is an error at
		// its first alias, not gigabytes of copies.
		c.errs = append(c.errs, &Error{Pos: c.pos(n), Msg: "YAML aliases are not supported", Hint: "repeat the value"})
		return &Value{Pos: c.pos(n), Kind: KindNull, Failed: true}
	case yaml.ScalarNode:
		return c.scalarNode(n)
	}
	c.errs = append(c.errs, &Error{Pos: c.pos(n), Msg: fmt.Sprintf("unsupported YAML node kind %d", n.Kind)})
	return &Value{Pos: c.pos(n), Kind: KindNull, Failed: true}
}

// checkTag refuses an explicit tag that is not one of YAML's own: the
// config gives no meaning to !env, !include and the like, and silently
// ignoring them would read something other than what the author meant.
func (c *converter) checkTag(n *yaml.Node) *Error {
	if n.Style&yaml.TaggedStyle == 0 {
		return nil
	}
	switch n.Tag {
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!binary", "!!timestamp", "!!map", "!!seq", "!!omap", "!!pairs", "!!set":
		return nil
	}
	return &Error{Pos: c.pos(n), Msg: fmt.Sprintf("unsupported YAML tag %s", n.Tag), Hint: "remove the tag"}
}

func (c *converter) scalarNode(n *yaml.Node) *Value {
	text := n.Value
	kind := KindString
	switch n.Tag {
	case "!!null":
		return &Value{Pos: c.pos(n), Kind: KindNull, Quoted: isQuoted(n)}
	case "!!bool":
		kind = KindBool
	case "!!int":
		kind = KindInt
		if !isIntegerLiteral(text) {
			// 0x1F, 0o17: the rest of the program reads decimal digits.
			if i, err := strconv.ParseInt(text, 0, 64); err == nil {
				v := c.scalar(n, KindInt, strconv.FormatInt(i, 10))
				v.Inline = false
				return v
			}
		}
	case "!!float":
		kind = KindFloat
		if isIntegerLiteral(text) {
			kind = KindInt // an integer too large for int64
		}
	}
	return c.scalar(n, kind, text)
}

func (c *converter) addEntry(m *Value, kn, vn *yaml.Node, depth int, seen *map[string]*Value) {
	if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
		c.errs = append(c.errs, &Error{Pos: c.pos(kn), Msg: "YAML merge keys (<<) are not supported", Hint: "repeat the keys"})
		return
	}
	// Keys are not interpolated: a key from the environment would be printed
	// by "unknown key" and similar messages.
	lookup := c.lookup
	c.lookup = nil
	key := c.convert(kn, depth+1)
	c.lookup = lookup
	if key.Failed {
		return
	}
	if !key.IsScalar() || key.Kind == KindNull {
		c.errs = append(c.errs, key.Errorf("a mapping key must be a string"))
		return
	}
	if first := c.firstKey(m, key.Text, seen); first != nil {
		c.errs = append(c.errs, key.Errorf("duplicate key %q, first defined at %s", key.Text, first.Pos).WithHint("remove one of them"))
		return
	}
	val := c.convert(vn, depth+1)
	if val.Kind == KindNull && val.Pos.Line == 0 {
		val.Pos = key.Pos
	}
	m.Entries = append(m.Entries, Entry{Key: key, Value: val})
	if *seen != nil {
		(*seen)[key.Text] = key
	}
}

// firstKey returns the key of m already named text, or nil. A large
// mapping gets an index, so that checking its keys is not quadratic.
func (c *converter) firstKey(m *Value, text string, seen *map[string]*Value) *Value {
	const indexFrom = 16
	if *seen == nil && len(m.Entries) >= indexFrom {
		*seen = make(map[string]*Value, 2*len(m.Entries))
		for _, e := range m.Entries {
			(*seen)[e.Key.Text] = e.Key
		}
	}
	if *seen != nil {
		return (*seen)[text]
	}
	for _, e := range m.Entries {
		if e.Key.Text == text {
			return e.Key
		}
	}
	return nil
}

func (c *converter) scalar(n *yaml.Node, kind Kind, text string) *Value {
	v := &Value{Pos: c.pos(n), Kind: kind, Text: text, Quoted: isQuoted(n), Inline: c.isInline(n, text)}
	if c.lookup == nil || !strings.Contains(text, "$") {
		return v
	}
	expanded, secret, err := interpolate(text, c.lookup)
	if err != nil {
		err.Pos = v.Pos
		c.errs = append(c.errs, err)
		v.Failed = true
		return v
	}
	if expanded != text {
		v.Inline = false
	}
	v.Text, v.Secret = expanded, secret
	if secret && kind == KindString && !v.Quoted {
		v.Kind = inferKind(expanded)
	}
	return v
}

// isQuoted reports whether a scalar was written in quotes; an unquoted one
// that is interpolated may be read as a number or boolean.
func isQuoted(n *yaml.Node) bool {
	return n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0
}

// isInline reports whether the file shows the scalar's text verbatim on one
// line at its position.
func (c *converter) isInline(n *yaml.Node, text string) bool {
	if n.Line == 0 || strings.ContainsAny(text, "\n\r") || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) != 0 {
		return false
	}
	src := c.from(c.pos(n))
	switch {
	case n.Style&yaml.SingleQuotedStyle != 0:
		return strings.HasPrefix(src, "'"+text+"'")
	case n.Style&yaml.DoubleQuotedStyle != 0:
		return strings.HasPrefix(src, `"`+text+`"`) && !strings.Contains(text, `\`)
	}
	return strings.HasPrefix(src, text)
}

// inferKind reads an expanded plain scalar as YAML would.
func inferKind(s string) Kind {
	switch strings.ToLower(s) {
	case "true", "false":
		return KindBool
	case "", "null", "~":
		return KindNull
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return KindInt
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return KindFloat
	}
	return KindString
}

// isIntegerLiteral reports whether s is a decimal integer: digits with an
// optional sign.
func isIntegerLiteral(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
