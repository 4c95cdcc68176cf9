// Command orders-runner is pipeline-runner with one more transform,
// convert_currency: the whole CLI (run, test, validate, produce, ...) comes
// from one call.
package main

import (
	"os"

	"github.com/millrace-dev/millrace/examples/custom-transform/currency"
	"github.com/millrace-dev/millrace/pipeline/cli"
	"github.com/millrace-dev/millrace/transforms"
)

func main() {
	transforms.Register(currency.Spec, currency.New)
	os.Exit(cli.Main(os.Args[1:], cli.Options{}))
}
