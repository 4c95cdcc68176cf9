// Command summary reads `go test -json` on stdin, prints the tests' output
// as `go test` would, and ends with the number of tests run against each
// broker (subtests named after the brokers of MILLRACE_TEST_BROKERS) and a
// closing "N passed, N failed" line, where every test and subtest counts.
// The output of a test is shown only when it fails. It exits 1 when a test or a package
// failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json`.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	brokers := brokerNames(os.Getenv("MILLRACE_TEST_BROKERS"))
	perBroker := map[string]int{}
	passed, failed, skipped := 0, 0, 0
	pkgFailed := false
	logs := map[string][]string{} // output of running tests, shown if they fail
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text()) // not JSON: a build error, say
			continue
		}
		switch e.Action {
		case "output":
			if e.Test == "" {
				fmt.Print(e.Output)
				continue
			}
			key := e.Package + " " + e.Test
			logs[key] = append(logs[key], e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				if e.Action == "fail" {
					pkgFailed = true
				}
				continue
			}
			key := e.Package + " " + e.Test
			switch e.Action {
			case "pass":
				passed++
			case "fail":
				failed++
				fmt.Print(strings.Join(logs[key], ""))
			case "skip":
				skipped++
			}
			delete(logs, key)
			if e.Action == "pass" {
				for _, b := range brokers {
					if endsWithBroker(e.Test, b) {
						perBroker[b]++
					}
				}
			}
		}
	}
	names := make([]string, 0, len(perBroker))
	for b := range perBroker {
		names = append(names, b)
	}
	sort.Strings(names)
	for _, b := range names {
		fmt.Printf("tests passed against broker %s: %d\n", b, perBroker[b])
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || pkgFailed {
		os.Exit(1)
	}
}

// endsWithBroker reports whether a (sub)test is the per-broker subtest of b:
// Test/b, or a subtest below it.
func endsWithBroker(test, b string) bool {
	parts := strings.Split(test, "/")
	return len(parts) == 2 && parts[1] == b
}

func brokerNames(spec string) []string {
	var out []string
	for _, part := range strings.Split(spec, ",") {
		if name, _, ok := strings.Cut(strings.TrimSpace(part), "="); ok && name != "" {
			out = append(out, name)
		}
	}
	return out
}
