// Command docgen writes docs/transforms.md, docs/configuration.md and
// docs/pipelines.schema.json from the transform specs and the config schema.
// Run it with `go generate ./...`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/millrace-dev/millrace/internal/docs"
	"github.com/millrace-dev/millrace/transforms"
	_ "github.com/millrace-dev/millrace/transforms/builtin" // the catalogue is theirs
)

func main() {
	dir := flag.String("dir", "docs", "output directory")
	flag.Parse()
	for name, data := range Files() {
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// Files returns every generated file by name.
func Files() map[string][]byte {
	return map[string][]byte{
		"transforms.md":         docs.Transforms(transforms.Default),
		"configuration.md":      docs.Configuration(),
		"pipelines.schema.json": docs.JSONSchema(transforms.Default),
	}
}
