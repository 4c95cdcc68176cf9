package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
)

// The checked-in docs must be what the specs generate today.
func TestDocsAreCurrent(t *testing.T) {
	for name, want := range map[string][]byte{
		"../../docs/transforms.md":    Transforms(transforms.Default),
		"../../docs/configuration.md": Configuration(),
	} {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go generate ./...` and commit the result", name)
		}
	}
}
