package builtin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const orderSchema = `{
  "type": "object",
  "required": ["id", "amount"],
  "properties": {
    "id": {"type": "string", "minLength": 1},
    "amount": {"type": "number", "minimum": 0},
    "customer": {"$ref": "customer.json"}
  }
}`

const customerSchema = `{"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}`

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	runCases(t, []runCase{
		{name: "valid", steps: `- validate: {schema: {type: object, properties: {n: {type: integer, maximum: 10}}}}`, in: `{"n":10}`, want: []string{`{"n":10}`}},
		{name: "integer maximum", steps: `- validate: {schema: {properties: {n: {type: integer, maximum: 10}}}}`, in: `{"n":11}`,
			err: `step 0 (validate): schema validation failed: at '/n': is more than the maximum 10`},
		{name: "float is no integer", steps: `- validate: {schema: {properties: {n: {type: integer}}}}`, in: `{"n":1.5}`,
			err: `step 0 (validate): schema validation failed: at '/n': got number, want integer`},
		{name: "big integer", steps: `- validate: {schema: {properties: {n: {type: integer, minimum: 0}}}}`, in: `{"n":123456789012345678901234567890}`,
			want: []string{`{"n":123456789012345678901234567890}`}},
		{name: "nested list", steps: `- validate: {schema: {properties: {l: {type: array, items: {type: string}}}}}`, in: `{"l":["a",2]}`,
			err: `step 0 (validate): schema validation failed: at '/l/1': got number, want string`},
		{name: "additional properties", steps: `- validate: {schema: {properties: {a: {}}, additionalProperties: false}}`, in: `{"a":1,"b":2}`,
			err: `step 0 (validate): schema validation failed: at '': additional properties 'b' not allowed`},
		{name: "oneOf lists each branch", steps: `- validate: {schema: {oneOf: [{type: string}, {type: integer}]}}`, in: `{}`,
			err: `step 0 (validate): schema validation failed: at '': got object, want string; at '': got object, want integer`},
		{name: "JSON syntax inline", steps: `- validate: {schema: {"type": "object", "required": ["a"]}}`, in: `{}`,
			err: `step 0 (validate): schema validation failed: at '': missing property 'a'`},
		{name: "boolean schema", steps: `- validate: {schema: false}`, in: `{}`, err: `step 0 (validate): schema validation failed: at '': false schema`},
		{name: "formats are annotations", steps: `- validate: {schema: {properties: {d: {format: date}}}}`, in: `{"d":"yesterday"}`, want: []string{`{"d":"yesterday"}`}},
		{name: "formats when asserted", steps: `- validate: {schema: {properties: {d: {format: date}}}, assert_formats: true}`, in: `{"d":"2024-02-30"}`,
			err: `step 0 (validate): schema validation failed: at '/d': is not valid date`},
		// The record's values never reach the error text (logs, dead-letter
		// headers, the status page); the dead letter keeps them.
		{name: "values are not quoted", steps: `- validate: {schema: {properties: {e: {format: email, maxLength: 5}, s: {enum: [a, b]}, p: {pattern: "^x"}, c: {const: 1}, n: {multipleOf: 0.5}}}, assert_formats: true}`,
			in:  `{"e":"John.Secret@@Example.org","s":"secret-s","p":"secret-p","c":"secret-c","n":0.7}`,
			err: `step 0 (validate): schema validation failed: at '/c': is not the value the schema requires; at '/e': is not valid email; at '/n': is not a multiple of 0.5; at '/p': does not match pattern "^x"; at '/s': is not one of the values the schema allows`},
		{name: "after extract", steps: "- extract: l\n- validate: {schema: {type: array, maxItems: 1}}", in: `{"l":[1,2]}`,
			err: `step 1 (validate): schema validation failed: at '': maxItems: got 2, want 1`},
	})
}

func TestValidateManyErrors(t *testing.T) {
	chain := buildChain(t, `- validate: {schema: {additionalProperties: {type: string}}}`)
	_, err := runJSON(t, chain, `{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1}`)
	if err == nil || strings.Count(err.Error(), "want string") != 10 || !strings.HasSuffix(err.Error(), "; and 2 more") {
		t.Errorf("got %v", err)
	}
}

// Values that expressions put into a record are checked as their JSON.
func TestValidateAfterSet(t *testing.T) {
	chain := buildChain(t, `
- set: {t: 'date("2024-03-01T10:00:00Z")'}
- validate: {schema: {properties: {t: {type: string, format: date-time}}}, assert_formats: true}
`)
	if _, err := runJSON(t, chain, `{}`); err != nil {
		t.Error(err)
	}
}

func TestValidateSchemaFile(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "order.json", orderSchema)
	writeFile(t, dir, "customer.json", customerSchema)
	writeFile(t, dir, "order.yaml", "type: object\nrequired: [id]\nproperties:\n  customer: {$ref: customer.json}\n  tags: {$ref: tags.yml}\n")
	writeFile(t, dir, "tags.yml", "type: array\nitems: {type: string}\n")
	cases := []runCase{
		{name: "valid", steps: `- validate: {schema_file: "` + path + `"}`, in: `{"id":"o","amount":1,"customer":{"email":"e"}}`,
			want: []string{`{"amount":1,"customer":{"email":"e"},"id":"o"}`}},
		{name: "relative ref", steps: `- validate: {schema_file: "` + path + `"}`, in: `{"id":"o","amount":1,"customer":{}}`,
			err: `step 0 (validate): schema validation failed: at '/customer': missing property 'email'`},
		{name: "yaml file", steps: `- validate: {schema_file: "` + filepath.Join(dir, "order.yaml") + `"}`, in: `{"customer":{}}`,
			err: `step 0 (validate): schema validation failed: at '': missing property 'id'; at '/customer': missing property 'email'`},
		{name: "ref to a yaml file", steps: `- validate: {schema_file: "` + filepath.Join(dir, "order.yaml") + `"}`, in: `{"id":"o","tags":["a",1]}`,
			err: `step 0 (validate): schema validation failed: at '/tags/1': got number, want string`},
	}
	runCases(t, cases)

	// A relative path is resolved against the working directory.
	t.Chdir(dir)
	runCases(t, []runCase{
		{name: "relative path", steps: `- validate: {schema_file: order.json}`, in: `{"id":"","amount":1}`,
			err: `step 0 (validate): schema validation failed: at '/id': minLength: got 0, want 1`},
		{name: "inline schema refs from the working directory", steps: `- validate: {schema: {$ref: customer.json}}`, in: `{}`,
			err: `step 0 (validate): schema validation failed: at '': missing property 'email'`},
	})
}

// Schema files are bounded: a device (/dev/zero was read until memory ran
// out), a file over maxSchemaFile, and many files adding up to more than
// maxSchemaTotal are refused, whether named by schema_file or by a $ref.
func TestValidateSchemaLimits(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.json")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // sparse: 1 GiB on no disk
		t.Fatal(err)
	}
	f.Close()
	refHuge := writeFile(t, dir, "ref-huge.json", `{"$ref": "huge.json"}`)
	refZero := writeFile(t, dir, "ref-zero.json", `{"$ref": "file:///dev/zero"}`)
	// A chain of files, each under the per-file bound, over the total.
	big := strings.Repeat("x", 3<<20)
	for i := 5; i >= 0; i-- {
		writeFile(t, dir, fmt.Sprintf("chain%d.json", i), fmt.Sprintf(`{"$ref": "chain%d.json", "description": %q}`, i+1, big))
	}
	chain := filepath.Join(dir, "chain0.json")
	cases := []configCase{
		{`- validate: {schema_file: ` + huge + `}`,
			"steps.yaml:1:27: read schema file " + huge + ": is larger than 4 MiB (a relative path is resolved against the working directory)"},
		{`- validate: {schema_file: ` + refHuge + `}`,
			"steps.yaml:1:27: invalid schema: failing loading \"file://" + filepath.ToSlash(huge) + "\": is larger than 4 MiB"},
		{`- validate: {schema_file: ` + chain + `}`,
			"steps.yaml:1:27: invalid schema: failing loading \"file://" + filepath.ToSlash(filepath.Join(dir, "chain5.json")) + "\": the schema files of this step would be larger than 16 MiB together"},
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		cases = append(cases,
			configCase{`- validate: {schema_file: /dev/zero}`,
				"steps.yaml:1:27: read schema file /dev/zero: is a device, not a regular file (a relative path is resolved against the working directory)"},
			configCase{`- validate: {schema_file: ` + refZero + `}`,
				"steps.yaml:1:27: invalid schema: failing loading \"file:///dev/zero\": is a device, not a regular file"},
			configCase{`- validate: {schema: {$ref: "file:///dev/zero"}}`,
				"steps.yaml:1:22: invalid schema: failing loading \"file:///dev/zero\": is a device, not a regular file"},
		)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	configErrors(t, cases)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
		t.Errorf("allocated %d MB", alloc>>20)
	}
}

func TestValidateConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.json", `{"type": "objekt"}`)
	broken := writeFile(t, dir, "broken.json", `{"type": `)
	badYAML := writeFile(t, dir, "bad.yaml", "type: [\n")
	refs := writeFile(t, dir, "refs.json", `{"$ref": "missing.json"}`)
	configErrors(t, []configCase{
		{`- validate: {}`, "steps.yaml:1:13: validate needs schema or schema_file"},
		{`- validate: {schema: {}, schema_file: x.json}`, "steps.yaml:1:13: validate takes schema or schema_file, not both"},
		{"- validate:\n    schema:\n      type: objekt\n      properties:\n        n: {minimum: x}",
			"steps.yaml:3:13: invalid schema: '/type': value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'\n" +
				"steps.yaml:3:13: invalid schema: '/type': got string, want array\n" +
				"steps.yaml:5:22: invalid schema: '/properties/n/minimum': got string, want number"},
		{`- validate: {schema: {required: a}}`, "steps.yaml:1:33: invalid schema: '/required': got string, want array"},
		{`- validate: {schema_file: ` + filepath.Join(dir, "nope.json") + `}`,
			"steps.yaml:1:27: read schema file " + filepath.Join(dir, "nope.json") + ": no such file or directory (a relative path is resolved against the working directory)"},
		{`- validate: {schema_file: ` + bad + `}`,
			"steps.yaml:1:27: invalid schema in " + bad + ": at '/type': value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'; at '/type': got string, want array"},
		{`- validate: {schema_file: ` + broken + `}`, "steps.yaml:1:27: schema file " + broken + ": invalid JSON: unexpected EOF"},
		{`- validate: {schema_file: ` + refs + `}`,
			"steps.yaml:1:27: invalid schema: failing loading \"file://" + filepath.ToSlash(filepath.Join(dir, "missing.json")) + "\": no such file or directory"},
		{`- validate: {schema: {$ref: "https://example.com/s.json"}}`,
			"steps.yaml:1:22: invalid schema: failing loading \"https://example.com/s.json\": only local files are read, not https URLs"},
		{`- validate: {schema_file: ` + badYAML + `}`, "steps.yaml:1:27: schema file " + badYAML + ": " + badYAML + ":2:1: YAML syntax: did not find expected node content"},
	})
}
