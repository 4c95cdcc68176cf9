package cli

import "strings"

// configFlag is -c/--config: one file for most commands, several (files,
// folders or globs) for validate. pflag's string flag would let a second
// -c silently replace the first.
type configFlag struct {
	paths []string // as given; empty means the default
}

func (f *configFlag) String() string {
	if len(f.paths) == 0 {
		return defaultConfig
	}
	return strings.Join(f.paths, ",")
}

func (f *configFlag) Set(s string) error {
	f.paths = append(f.paths, s)
	return nil
}

func (f *configFlag) Type() string { return "string" }

// defaultConfig is the config a command reads without -c.
const defaultConfig = "pipelines.yaml"
