package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// defaultName is the name of the program Millrace ships.
const defaultName = "pipeline-runner"

// renameProgram writes name for pipeline-runner in every command's usage,
// description and examples, so that a custom binary built on Main names
// itself in its help (the texts are written once, for the shipped binary).
func renameProgram(root *cobra.Command, name string) {
	if name == defaultName {
		return
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Use = strings.ReplaceAll(c.Use, defaultName, name)
		c.Short = strings.ReplaceAll(c.Short, defaultName, name)
		c.Long = strings.ReplaceAll(c.Long, defaultName, name)
		c.Example = strings.ReplaceAll(c.Example, defaultName, name)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
