package builtin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/millrace-dev/millrace/internal/readfile"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// maxSchemaErrors bounds how many violations a record error lists.
const maxSchemaErrors = 10

// MaxSchemaFile bounds one schema file, given as schema_file or reached by
// a $ref. Real schemas are kilobytes; the largest public ones (a cloud
// provider's whole API) stay under a few MiB. Without a bound,
// schema_file: /dev/zero was read until memory ran out.
const MaxSchemaFile = 4 << 20

// MaxSchemaTotal bounds what one validate step reads over all its files,
// so that many $refs to files under MaxSchemaFile do not add up to
// gigabytes.
const MaxSchemaTotal = 16 << 20

func init() {
	transforms.Register(transforms.Spec{
		Name:    "validate",
		Summary: "Check the record against a JSON Schema; records that fail go to the dead-letter topic.",
		Description: "The schema is given inline under `schema` (YAML or JSON syntax) or read from " +
			"`schema_file`. It is compiled when the config is loaded: an invalid schema or a file " +
			"that cannot be read is a config error. A record that does not match fails with the " +
			"validator's messages, such as `at '/amount': minimum: got -1, want 0`, which the " +
			"dead-letter record carries in its `millrace.error` header; a valid record passes " +
			"unchanged.\n\n" +
			"Drafts 4, 6, 7, 2019-09 and 2020-12 are supported; a schema without `$schema` is read " +
			"as 2020-12. `format` is an annotation unless `assert_formats: true`. A relative " +
			"`schema_file` is resolved against the runner's working directory, not the directory " +
			"of the config file, so prefer absolute paths in deployments; files ending in `.yaml` " +
			"or `.yml` are read as YAML, others as JSON. A `$ref` to another file is resolved " +
			"relative to the schema file (for an inline schema, to the working directory); " +
			"references over the network are not followed. A schema file, named or referenced, " +
			"must be a regular file of at most 4 MiB, and the files of one step together at most " +
			"16 MiB.",
		Config: spec.Object("",
			&spec.Field{Name: "schema", Type: spec.Any(""), Doc: "The schema, inline."},
			&spec.Field{Name: "schema_file", Type: spec.String(""), Doc: "Path of a schema file, absolute or relative to the working directory."},
			&spec.Field{Name: "assert_formats", Type: spec.Bool(""), Default: false, Doc: "Fail values that do not match their `format` (email, date-time, uuid, ...)."},
		),
		Examples: []transforms.Example{
			{Title: "A valid order passes", Config: `{schema: {type: object, required: [id, amount], properties: {amount: {type: number, minimum: 0}}}}`,
				Input: `{"id":"o-1","amount":12.5}`, Output: []string{`{"amount":12.5,"id":"o-1"}`}},
			{Title: "Violations fail the record", Config: `{schema: {type: object, required: [id], properties: {amount: {minimum: 0}}}}`,
				Input: `{"amount":-1}`,
				Error: `schema validation failed: at '': missing property 'id'; at '/amount': is less than the minimum 0`},
			{Title: "Formats when asked", Config: `{schema: {properties: {email: {format: email}}}, assert_formats: true}`,
				Input: `{"email":"not an address"}`, Error: `schema validation failed: at '/email': is not valid email`},
		},
	}, newValidate)
}

type validate struct{ schema *jsonschema.Schema }

// validateConfig is validate's config; its spec declares the defaults.
type validateConfig struct {
	Schema        *spec.Value
	SchemaFile    *spec.Value
	AssertFormats bool
}

func newValidate(b *transforms.Build) (transforms.Transform, error) {
	var c validateConfig
	if err := b.Decode(&c); err != nil {
		return nil, err
	}
	inline, file := c.Schema, c.SchemaFile
	switch {
	case inline == nil && file == nil:
		return nil, b.Config.Errorf("validate needs schema or schema_file")
	case inline != nil && file != nil:
		return nil, b.Config.Errorf("validate takes schema or schema_file, not both")
	}
	comp := jsonschema.NewCompiler()
	loader := &schemaLoader{left: MaxSchemaTotal}
	comp.UseLoader(loader)
	if c.AssertFormats {
		comp.AssertFormat()
	}
	var loc string
	var src *spec.Value // the inline schema, for error positions
	if inline != nil {
		if inline.Failed {
			return nil, spec.ErrReported
		}
		doc, err := schemaDoc(inline.Plain())
		if err != nil {
			return nil, inline.Errorf("schema: %v", err)
		}
		wd, err := os.Getwd()
		if err != nil {
			return nil, inline.Errorf("schema: %v", err)
		}
		loc = fileURL(filepath.Join(wd, fmt.Sprintf("%s.step%d.inline-schema.json", b.Pipeline, b.Index)))
		if err := comp.AddResource(loc, doc); err != nil {
			return nil, inline.Errorf("schema: %v", err)
		}
		src = inline
	} else {
		doc, abs, err := loader.readSchemaFile(file)
		if err != nil {
			return nil, err
		}
		loc = fileURL(abs)
		if err := comp.AddResource(loc, doc); err != nil {
			return nil, file.Errorf("schema file %s: %v", file.Text, err)
		}
		src = file
	}
	sch, err := comp.Compile(loc)
	if err != nil {
		return nil, schemaConfigError(src, inline != nil, err)
	}
	return validate{sch}, nil
}

// schemaDoc turns a decoded YAML value into what the compiler reads: the
// numbers of JSON, not YAML's int64.
func schemaDoc(v any) (any, error) {
	b, err := codec.Encode(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

func (l *schemaLoader) readSchemaFile(v *spec.Value) (any, string, error) {
	abs, err := filepath.Abs(v.Text)
	if err != nil {
		return nil, "", v.Errorf("schema file %s: %v", v.Text, err)
	}
	data, err := l.read(abs)
	if err != nil {
		return nil, "", v.Errorf("read schema file %s: %v", v.Text, err).WithHint("a relative path is resolved against the working directory")
	}
	doc, err := parseSchemaFile(abs, data)
	if err != nil {
		return nil, "", v.Errorf("schema file %s: %v", v.Text, err)
	}
	return doc, abs, nil
}

// parseSchemaFile parses a schema: YAML for .yaml and .yml files, else JSON.
func parseSchemaFile(path string, data []byte) (any, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		y, errs := spec.ParseYAML(path, data, nil)
		if err := errs.Err(); err != nil {
			return nil, err
		}
		return schemaDoc(y.Plain())
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return doc, nil
}

// schemaLoader reads the schema files of one validate step: the
// schema_file and those its $refs name, in JSON or YAML. Only regular local
// files are read, each of at most MaxSchemaFile bytes and all of them
// together of at most MaxSchemaTotal; nothing is fetched over the network
// (the drafts' meta-schemas are built into the validator).
type schemaLoader struct {
	left int64 // bytes that may still be read
}

func (l *schemaLoader) read(path string) ([]byte, error) {
	limit := min(int64(MaxSchemaFile), l.left)
	data, err := readfile.Read(path, limit)
	var tl *readfile.TooLargeError
	if errors.As(err, &tl) && limit < MaxSchemaFile {
		return nil, fmt.Errorf("the schema files of this step would be larger than %s together", readfile.Size(MaxSchemaTotal))
	}
	if err != nil {
		return nil, err
	}
	l.left -= int64(len(data))
	return data, nil
}

func (l *schemaLoader) Load(u string) (any, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	if pu.Scheme != "file" {
		return nil, fmt.Errorf("only local files are read, not %s URLs", pu.Scheme)
	}
	path := filepath.FromSlash(pu.Path)
	data, err := l.read(path)
	if err != nil {
		return nil, err // the validator names the URL
	}
	return parseSchemaFile(path, data)
}

func fileURL(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// schemaConfigError reports a schema that does not compile. For an inline
// schema each violation of the meta-schema is placed at its key.
func schemaConfigError(src *spec.Value, inline bool, err error) error {
	var sve *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	if !errors.As(err, &sve) || !errors.As(sve.Err, &ve) {
		return src.Errorf("invalid schema: %v", err)
	}
	leaves := schemaLeaves(ve, nil)
	if !inline {
		return src.Errorf("invalid schema in %s: %s", src.Text, joinLeaves(leaves))
	}
	var errs spec.Errors
	for _, l := range leaves {
		at := valueAt(src, l.InstanceLocation)
		errs = append(errs, at.Errorf("invalid schema: %s", strings.TrimPrefix(l.Error(), "at ")))
	}
	return errs
}

// valueAt follows a JSON pointer into a config value as far as it goes.
func valueAt(v *spec.Value, tokens []string) *spec.Value {
	for _, tok := range tokens {
		var next *spec.Value
		switch v.Kind {
		case spec.KindMap:
			next = v.Get(tok)
		case spec.KindList:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(v.Items) {
				next = v.Items[i]
			}
		}
		if next == nil {
			return v
		}
		v = next
	}
	return v
}

// schemaLeaves collects the violations without causes: the specific ones.
func schemaLeaves(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(out, e)
	}
	for _, c := range e.Causes {
		out = schemaLeaves(c, out)
	}
	return out
}

func joinLeaves(leaves []*jsonschema.ValidationError) string {
	return joinViolations(leaves, (*jsonschema.ValidationError).Error)
}

// joinViolations writes at most maxSchemaErrors violations, each as say
// puts it, and how many more there are.
func joinViolations(leaves []*jsonschema.ValidationError, say func(*jsonschema.ValidationError) string) string {
	var b strings.Builder
	for i, l := range leaves {
		if i == maxSchemaErrors {
			fmt.Fprintf(&b, "; and %d more", len(leaves)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(say(l))
	}
	return b.String()
}

func (v validate) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	in, err := plainJSON(r.Value)
	if err != nil {
		return nil, err
	}
	if err := v.schema.Validate(in); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return nil, errors.New("schema validation failed: " + recordViolations(schemaLeaves(ve, nil)))
		}
		return nil, fmt.Errorf("schema validation failed: %w", err)
	}
	return r.One(), nil
}
