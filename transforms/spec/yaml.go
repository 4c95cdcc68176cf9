package spec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// LookupEnv finds an environment variable, as os.LookupEnv does.
type LookupEnv func(name string) (string, bool)

// ParseYAML parses one YAML document into a positioned Value, expanding
// ${VAR} and ${VAR:-default} in scalars with lookup (nil: no interpolation).
// A syntax error stops parsing; every other problem is collected.
func ParseYAML(file string, data []byte, lookup LookupEnv) (*Value, Errors) {
	// Duplicate keys are reported by the converter, so that they do not stop
	// the other checks as a syntax error would.
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, Errors{syntaxError(file, data, err)}
	}
	c := converter{file: file, lookup: lookup}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return &Value{Pos: Pos{File: file, Line: 1, Col: 1}, Kind: KindNull}, nil
	}
	if len(f.Docs) > 1 {
		pos := Pos{File: file, Line: 1, Col: 1}
		if p := c.pos(f.Docs[1].Start); p.Line > 0 {
			pos = p
		}
		c.errs = append(c.errs, &Error{Pos: pos, Msg: "expected one YAML document, found " + fmt.Sprint(len(f.Docs)), Hint: "remove the --- separator and what follows, or put the pipelines in one list"})
	}
	v := c.convert(f.Docs[0].Body)
	return v, c.errs
}

func syntaxError(file string, data []byte, err error) *Error {
	type positioned interface {
		GetToken() *token.Token
		GetMessage() string
	}
	var pe positioned
	if errors.As(err, &pe) && pe.GetToken() != nil {
		p := pe.GetToken().Position
		e := &Error{Pos: Pos{File: file, Line: p.Line, Col: p.Column}, Msg: "YAML syntax: " + pe.GetMessage()}
		// A plain ${NAME} inside {...} or [...] is a YAML error, since { and }
		// are flow indicators there; the parser's message does not say so.
		if lines := strings.Split(string(data), "\n"); p.Line >= 1 && p.Line <= len(lines) && strings.Contains(lines[p.Line-1], "${") {
			e.Hint = `inside {...} or [...], quote a value that uses ${...}: "${NAME}"`
		}
		return e
	}
	return &Error{Pos: Pos{File: file}, Msg: "YAML syntax: " + err.Error()}
}

type converter struct {
	file   string
	lookup LookupEnv
	errs   Errors
}

func (c *converter) pos(t *token.Token) Pos {
	if t == nil || t.Position == nil {
		return Pos{File: c.file}
	}
	return Pos{File: c.file, Line: t.Position.Line, Col: t.Position.Column}
}

func (c *converter) convert(n ast.Node) *Value {
	switch n := n.(type) {
	case *ast.MappingNode:
		v := &Value{Pos: c.pos(n.Start), Kind: KindMap}
		if !n.IsFlowStyle && len(n.Values) > 0 {
			v.Pos = c.pos(n.Values[0].Key.GetToken())
		}
		for _, mv := range n.Values {
			c.addEntry(v, mv)
		}
		return v
	case *ast.MappingValueNode:
		v := &Value{Pos: c.pos(n.Key.GetToken()), Kind: KindMap}
		c.addEntry(v, n)
		return v
	case *ast.SequenceNode:
		v := &Value{Pos: c.pos(n.Start), Kind: KindList}
		for _, it := range n.Values {
			v.Items = append(v.Items, c.convert(it))
		}
		return v
	case *ast.AnchorNode:
		return c.convert(n.Value)
	case *ast.AliasNode:
		c.errs = append(c.errs, &Error{Pos: c.pos(n.Start), Msg: "YAML aliases are not supported", Hint: "repeat the value"})
		return &Value{Pos: c.pos(n.Start), Kind: KindNull, Failed: true}
	case *ast.TagNode:
		return c.convert(n.Value)
	case *ast.NullNode:
		return &Value{Pos: c.pos(n.Token), Kind: KindNull}
	case *ast.BoolNode:
		return c.scalar(n.Token, KindBool, n.Token.Value)
	case *ast.IntegerNode:
		return c.scalar(n.Token, KindInt, n.Token.Value)
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		t := n.GetToken()
		return c.scalar(t, KindFloat, t.Value)
	case *ast.StringNode:
		kind := KindString
		if isPlain(n.Token) && isIntegerLiteral(n.Value) {
			kind = KindInt // an integer too large for the parser's int64
		}
		return c.scalar(n.Token, kind, n.Value)
	case *ast.LiteralNode:
		return c.scalar(n.Start, KindString, n.Value.Value)
	case nil:
		return &Value{Kind: KindNull}
	}
	t := n.GetToken()
	c.errs = append(c.errs, &Error{Pos: c.pos(t), Msg: fmt.Sprintf("unsupported YAML node %s", n.Type())})
	return &Value{Pos: c.pos(t), Kind: KindNull, Failed: true}
}

func (c *converter) addEntry(m *Value, mv *ast.MappingValueNode) {
	// Keys are not interpolated: a key from the environment would be printed
	// by "unknown key" and similar messages.
	lookup := c.lookup
	c.lookup = nil
	key := c.convert(mv.Key)
	c.lookup = lookup
	if !key.IsScalar() || key.Kind == KindNull {
		c.errs = append(c.errs, key.Errorf("a mapping key must be a string"))
		return
	}
	for _, e := range m.Entries {
		if e.Key.Text == key.Text {
			c.errs = append(c.errs, key.Errorf("duplicate key %q, first defined at %s", key.Text, e.Key.Pos).WithHint("remove one of them"))
			return
		}
	}
	val := c.convert(mv.Value)
	if val.Kind == KindNull && val.Pos.Line == 0 {
		val.Pos = key.Pos
	}
	m.Entries = append(m.Entries, Entry{Key: key, Value: val})
}

func (c *converter) scalar(t *token.Token, kind Kind, text string) *Value {
	v := &Value{Pos: c.pos(t), Kind: kind, Text: text, Quoted: !isPlain(t), Inline: isInline(t, text)}
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
	if secret && kind == KindString && isPlain(t) {
		v.Kind = inferKind(expanded)
	}
	return v
}

// isPlain reports whether a scalar was written without quotes, so that an
// interpolated value may be read as a number or boolean.
func isPlain(t *token.Token) bool {
	return t == nil || (t.Type != token.SingleQuoteType && t.Type != token.DoubleQuoteType)
}

// isInline reports whether the scalar token shows text verbatim on one line.
func isInline(t *token.Token, text string) bool {
	if t == nil {
		return false
	}
	raw := strings.TrimSpace(t.Origin)
	switch t.Type {
	case token.SingleQuoteType:
		return raw == "'"+text+"'"
	case token.DoubleQuoteType:
		return raw == `"`+text+`"`
	case token.LiteralType, token.FoldedType:
		return false
	}
	return raw == text
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
