package cli

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

// resumeCommand is the command that resumes replay id of pipeline, with
// the flags that say where the config, the brokers and the checkpoints
// are, as they were given: pasted into the same shell and folder, it
// works. (The range, filters, outputs and pace are in the checkpoint.)
func resumeCommand(cmd *cobra.Command, g *globals, pipeline, id string) string {
	args := []string{g.name, "replay", pipeline}
	if g.configSet {
		args = append(args, "-c", g.configPath)
	}
	for _, name := range []string{"brokers", "checkpoint-dir", "log-level"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed {
			args = append(args, "--"+name, f.Value.String())
		}
	}
	args = append(args, "--resume", id)
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:,=@%+-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
