package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// FuzzParse feeds arbitrary bytes to the loader. It must never panic, and it
// returns either a config or spec.Errors in which every error names the file
// and a line and column, except a YAML syntax error the parser could not
// place.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"version: 1",
		minimal,
		"version: 1\npipelines:\n  - name: p\n    input: {topic: in}\n    output: {topic: out}\n    transforms:\n      - filter: 'a > 1'\n      - set: {b: 'a * 2'}\n      - rename: {b: c.d}\n      - drop: [a]\n",
		"version: 1\nkafka: {brokers: \"a:1,b:2\"}\npipelines:\n  - {name: p, input: {topic: '${IN:-x}'}, output: {topic: out, routes: [{when: 'true', topic: r}]}}\n",
		"- [a, {b: c}]\n",
		"a: &x 1\nb: *x\n",
		"version: !!str 1\n",
		"version: 1\n---\nversion: 2\n",
		"{",
		"key: ${",
		"version: 1\nkafka: {brokers: [localhost:9092, 'b:2']}\npipelines: [{name: p, input: {topic: 'a:1'}, output: {topic: b:2}}]\n",
		"a: " + strings.Repeat("[", 101) + strings.Repeat("]", 101),
		"a: !env X\nb: {<<: {c: 1}}\nc: yes\n",
		"a:\n\tb: 1\n",
	}
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	files = append(files, "../../pipelines.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, string(data))
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	lookup := env(map[string]string{"IN": "orders", "N": "5", "EMPTY": "", "SECRET": "hunter2 > >"})
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "fuzz.yaml"
		cfg, err := config.Parse(file, data, config.Options{LookupEnv: lookup})
		if err == nil {
			if cfg == nil {
				t.Fatal("no config and no error")
			}
			for _, p := range cfg.Pipelines {
				if p.Name == "" || p.Input.Topic == "" || p.Output.Topic == "" {
					t.Fatalf("incomplete pipeline accepted: %+v", p)
				}
				// What loaded builds.
				parts, err := cfg.Build(p, config.BuildOptions{})
				if err != nil {
					t.Fatalf("pipeline %q loaded but does not build: %v", p.Name, err)
				}
				parts.Close()
				if p.Input.Topic == p.Output.Topic {
					t.Fatalf("pipeline %q writes to its input topic", p.Name)
				}
			}
			return
		}
		if cfg != nil {
			t.Fatalf("config together with error %v", err)
		}
		var es spec.Errors
		if !errors.As(err, &es) {
			t.Fatalf("error is %T, want spec.Errors: %v", err, err)
		}
		if len(es) == 0 {
			t.Fatal("empty spec.Errors")
		}
		for _, e := range es {
			if e.Pos.File != file {
				t.Fatalf("error %q names file %q", e, e.Pos.File)
			}
			if e.Msg == "" {
				t.Fatalf("error without message at %v", e.Pos)
			}
			if e.Pos.Line <= 0 && !strings.HasPrefix(e.Msg, "YAML syntax: ") {
				t.Fatalf("error without a line: %q", e)
			}
			if e.Pos.Line > 0 && e.Pos.Col <= 0 {
				t.Fatalf("error without a column: %q", e)
			}
		}
		if strings.Contains(err.Error(), "hunter2") && !strings.Contains(string(data), "hunter2") {
			t.Fatalf("error shows the value of $SECRET: %v", err)
		}
	})
}
