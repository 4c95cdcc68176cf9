package cli

import "github.com/spf13/cobra"

// addCompletion adds cobra's completion command, whose scripts are
// generated from the command table, with an example like every command's.
func addCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = "  source <(pipeline-runner completion bash)\n" +
				"  pipeline-runner completion zsh > \"${fpath[1]}/_pipeline-runner\"\n" +
				"  pipeline-runner completion fish > ~/.config/fish/completions/pipeline-runner.fish"
		}
	}
}
