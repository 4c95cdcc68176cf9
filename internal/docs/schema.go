package docs

import (
	"encoding/json"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// JSONSchema renders a JSON Schema (draft 2020-12) of the whole config, with
// every transform of reg, for editor completion and validation.
func JSONSchema(reg *transforms.Registry) []byte {
	root := schemaOf(config.Schema)
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://github.com/millrace-dev/millrace/docs/pipelines.schema.json"
	root["title"] = "Millrace pipelines.yaml"
	// Config test cases are checked by `pipeline-runner test`.
	props := root["properties"].(map[string]any)
	var steps []any
	for _, name := range reg.Names() {
		r, _ := reg.Lookup(name)
		step := map[string]any{
			"type":                 "object",
			"description":          r.Spec.Summary,
			"properties":           map[string]any{name: schemaOf(r.Spec.Config), "when": map[string]any{"type": "string", "description": "Apply the step only where this expression is true."}},
			"required":             []string{name},
			"additionalProperties": false,
		}
		steps = append(steps, step)
	}
	pipelines := props["pipelines"].(map[string]any)["items"].(map[string]any)
	pipelines["properties"].(map[string]any)["transforms"] = map[string]any{
		"type":        "array",
		"description": "The chain of transform steps, applied in order.",
		"items":       map[string]any{"oneOf": steps},
	}
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(out, '\n')
}

// interpolated matches a value given as ${VAR}, which may stand for any type.
var interpolated = map[string]any{"type": "string", "pattern": `\$\{`}

func schemaOf(t *spec.Type) map[string]any {
	s := map[string]any{}
	if t.Doc != "" {
		s["description"] = t.Doc
	}
	scalar := func(typ string) {
		s["anyOf"] = []any{map[string]any{"type": typ}, interpolated}
	}
	switch t.Kind {
	case spec.TString, spec.TExpr:
		s["type"] = "string"
		if len(t.Enum) > 0 {
			s["enum"] = t.Enum
		}
	case spec.TInt:
		scalar("integer")
	case spec.TFloat:
		scalar("number")
	case spec.TBool:
		scalar("boolean")
	case spec.TDuration:
		s["type"] = "string"
		s["pattern"] = `^([0-9.]+(ns|us|µs|ms|s|m|h))+$|\$\{`
	case spec.TList:
		s["type"] = "array"
		s["items"] = schemaOf(t.Elem)
		if t.MinItems > 0 {
			s["minItems"] = t.MinItems
		}
	case spec.TMap:
		s["type"] = "object"
		s["additionalProperties"] = schemaOf(t.Elem)
		if t.MinItems > 0 {
			s["minProperties"] = t.MinItems
		}
	case spec.TObject:
		s["type"] = "object"
		props := map[string]any{}
		var required []string
		for _, f := range t.Fields {
			fs := schemaOf(f.Type)
			if f.Doc != "" {
				fs["description"] = f.Doc
			}
			if f.Default != nil {
				fs["default"] = f.Default
			}
			if len(f.Examples) > 0 {
				fs["examples"] = f.Examples
			}
			props[f.Name] = fs
			if f.Required {
				required = append(required, f.Name)
			}
		}
		s["properties"] = props
		if len(required) > 0 {
			s["required"] = required
		}
		s["additionalProperties"] = false
	case spec.TOneOf:
		var alts []any
		for _, a := range t.Alts {
			alts = append(alts, schemaOf(a))
		}
		s["anyOf"] = alts
	}
	return s
}
