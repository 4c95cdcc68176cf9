package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The checked-in docs must be what the specs generate today.
func TestDocsAreCurrent(t *testing.T) {
	for name, want := range Files() {
		path := filepath.Join("..", "..", "docs", name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go generate ./...` and commit the result", path)
		}
	}
}
