// Command pipeline-runner runs Millrace pipelines and the tools around them.
// See pipeline/cli for the commands.
package main

import (
	"os"

	"github.com/millrace-dev/millrace/pipeline/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Options{}))
}
