package config

import (
	"bytes"
	"fmt"
	"os"
	"slices"

	"github.com/millrace-dev/millrace/internal/readfile"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
	yaml "go.yaml.in/yaml/v4"
)

// filledSections are the sections shown with their defaults when the
// config leaves them out: their absence means their defaults. (A section
// such as kafka.tls turns a feature on by being there.)
var filledSections = []string{"kafka", "topics", "producer", "consumer", "runner", "admin", "errors", "retry"}

// secretKeys are the keys whose values are never shown, wherever they are.
var secretKeys = []string{"password", "client_secret", "bearer_token"}

// Resolved returns the config at path as the runner reads it, as YAML:
// ${VAR}s interpolated, every key's default filled in where its section
// is given (and each pipeline's input.group), and secrets shown as
// "(redacted)". Values from the environment inside transform steps are
// redacted too: an expression may hold a token. The config must load; its
// errors are returned otherwise.
func Resolved(path string, opts Options) ([]byte, error) {
	cfg, err := Load(path, opts)
	if err != nil {
		return nil, err
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	data, err := readfile.Read(path, MaxConfigSize)
	if err != nil {
		return nil, err
	}
	root, errs := spec.ParseYAML(path, data, opts.LookupEnv)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	r := resolver{reg: cfg.reg}
	node := r.node(root, Schema, false)
	if ps := child(node, "pipelines"); ps != nil {
		for i, p := range cfg.Pipelines {
			if in := child(ps.Content[i], "input"); in != nil && child(in, "group") == nil {
				in.Content = append(in.Content, scalar("group", false), scalar(p.Input.Group, false))
			}
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return nil, fmt.Errorf("print %s: %w", path, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// resolver turns a parsed config into YAML nodes with the defaults.
type resolver struct{ reg *transforms.Registry }

// node converts v, of type t (nil when unknown), filling the defaults of
// the objects it knows. inStep is true inside a transform step.
func (r resolver) node(v *spec.Value, t *spec.Type, inStep bool) *yaml.Node {
	if t != nil && t.Kind == spec.TOneOf {
		t = nil // Load checked which alternative fits; show the value as given
	}
	switch v.Kind {
	case spec.KindList:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, it := range v.Items {
			switch {
			case t == stepsType:
				n.Content = append(n.Content, r.step(it))
			case t != nil && t.Kind == spec.TList:
				n.Content = append(n.Content, r.node(it, t.Elem, inStep))
			default:
				n.Content = append(n.Content, r.node(it, nil, inStep))
			}
		}
		return n
	case spec.KindMap:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, e := range v.Entries {
			val := r.node(e.Value, fieldType(t, e.Key.Text), inStep)
			if slices.Contains(secretKeys, e.Key.Text) && e.Value.IsScalar() {
				val = scalar(Redacted, false)
			}
			n.Content = append(n.Content, scalar(e.Key.Text, false), val)
		}
		if t != nil && t.Kind == spec.TObject {
			for _, f := range t.Fields {
				if v.Get(f.Name) != nil {
					continue
				}
				if f.Default != nil {
					n.Content = append(n.Content, scalar(f.Name, false), defaultNode(f.Default))
				} else if f.Type.Kind == spec.TObject && slices.Contains(filledSections, f.Name) {
					if sub := r.node(&spec.Value{Kind: spec.KindMap}, f.Type, inStep); len(sub.Content) > 0 {
						n.Content = append(n.Content, scalar(f.Name, false), sub)
					}
				}
			}
		}
		return n
	}
	if v.Secret && inStep {
		return scalar(Redacted, false)
	}
	if v.Kind == spec.KindNull {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	return scalar(v.Text, v.Kind == spec.KindString)
}

// stepsType is the type of a pipeline's transforms: each step is checked
// against its transform's own spec, which has the defaults.
var stepsType = fieldType(fieldType(Schema, "pipelines").Elem, "transforms")

// step converts one transform step, with its transform's defaults.
func (r resolver) step(v *spec.Value) *yaml.Node {
	if v.Kind != spec.KindMap {
		return r.node(v, nil, true)
	}
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range v.Entries {
		var t *spec.Type
		if reg, ok := r.reg.Lookup(e.Key.Text); ok {
			t = reg.Spec.Config
		}
		n.Content = append(n.Content, scalar(e.Key.Text, false), r.node(e.Value, t, true))
	}
	return n
}

func fieldType(t *spec.Type, name string) *spec.Type {
	if t == nil || t.Kind != spec.TObject {
		return nil
	}
	for _, f := range t.Fields {
		if f.Name == name {
			return f.Type
		}
	}
	return nil
}

// scalar is a YAML scalar; a string is tagged as one, so that "123" or
// "true" prints quoted.
func scalar(text string, str bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: text}
	if str {
		n.Tag = "!!str"
	}
	return n
}

// defaultNode renders a schema default.
func defaultNode(d any) *yaml.Node {
	var n yaml.Node
	if err := n.Encode(d); err != nil {
		return scalar(fmt.Sprint(d), false)
	}
	return &n
}

// child returns the value under key of a mapping node, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
