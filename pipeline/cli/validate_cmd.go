package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/transforms/spec"
	"github.com/spf13/cobra"
)

func newValidateCmd(g *globals) *cobra.Command {
	var print bool
	cmd := &cobra.Command{
		Use:   "validate [-c FILE]... [FILE|FOLDER|GLOB]... [--print]",
		Short: "Check configs and print every error with file:line:col",
		Long: "validate checks each config given with -c or as an argument: a file, a folder (its\n" +
			"*.yaml and *.yml files, the *_test.yaml test files left out) or a glob. Every error of\n" +
			"every file is printed; the exit code is 2 if any file has one.\n\n" +
			"--print prints each config as the runner reads it: ${VAR}s interpolated, defaults\n" +
			"filled in, secrets (passwords, client secrets, environment values inside transform\n" +
			"steps) shown as (redacted).",
		Example: "  pipeline-runner validate -c pipelines.yaml\n" +
			"  pipeline-runner validate -c a.yaml -c b.yaml\n" +
			"  pipeline-runner validate configs/ 'teams/*/pipelines.yaml'\n" +
			"  pipeline-runner validate --print",
		RunE: func(cmd *cobra.Command, args []string) error {
			given := append(slices.Clone(g.configs.paths), args...)
			if len(given) == 0 {
				given = []string{defaultConfig}
			}
			files, err := configFiles(given)
			if err != nil {
				return err
			}
			if len(files) == 1 {
				return validateOne(cmd.OutOrStdout(), g, files[0], print)
			}
			failed := 0
			for _, f := range files {
				if err := validateOne(cmd.OutOrStdout(), g, f, print); err != nil {
					failed++
					fmt.Fprintln(cmd.ErrOrStderr(), describeConfigErr(err))
				}
			}
			if failed > 0 {
				return usageErr("%d of %d config(s) have errors", failed, len(files))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&print, "print", false, "print the resolved config: interpolated, defaults filled in, secrets redacted")
	return cmd
}

// validateOne checks one config and prints its line, or with print the
// resolved config.
func validateOne(w io.Writer, g *globals, path string, print bool) error {
	opts := config.Options{Registry: g.registry}
	if print {
		out, err := config.Resolved(path, opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "# %s\n", path)
		_, err = w.Write(out)
		return err
	}
	cfg, err := config.Load(path, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: ok, %d pipeline(s)\n", cfg.File, len(cfg.Pipelines))
	return nil
}

// describeConfigErr is a config's errors with their count, as Main prints
// a single config's.
func describeConfigErr(err error) string {
	var ce spec.Errors
	if errors.As(err, &ce) {
		return fmt.Sprintf("%s\n%d error(s) in %s", ce.Error(), len(ce), ce[0].Pos.File)
	}
	return "error: " + err.Error()
}

// configFiles expands files, folders and globs into config files, in the
// order given. A folder yields its *.yaml and *.yml files except the
// *_test.yaml siblings that hold config tests; a glob that matches
// nothing, or an empty folder, is an error.
func configFiles(given []string) ([]string, error) {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, g := range given {
		if strings.ContainsAny(g, "*?[") {
			matches, err := filepath.Glob(g)
			if err != nil {
				return nil, usageErr("%q is not a valid glob: %v", g, err)
			}
			if len(matches) == 0 {
				return nil, usageErr("%q matches no file", g)
			}
			n := 0
			for _, m := range matches {
				if !isTestFile(m) {
					add(m)
					n++
				}
			}
			if n == 0 {
				return nil, usageErr("%q matches only config test files (*_test.yaml)", g)
			}
			continue
		}
		st, err := os.Stat(g)
		if err != nil || !st.IsDir() {
			add(g) // loading it says what is wrong
			continue
		}
		entries, err := os.ReadDir(g)
		if err != nil {
			return nil, usageErr("cannot read folder %s: %v", g, err)
		}
		n := 0
		for _, e := range entries {
			name := e.Name()
			ext := filepath.Ext(name)

			if e.IsDir() || (ext != ".yaml" && ext != ".yml") || isTestFile(name) {
				continue
			}
			add(filepath.Join(g, name))
			n++
		}
		if n == 0 {
			return nil, usageErr("folder %s holds no *.yaml or *.yml config", g)
		}
	}
	return out, nil
}

// isTestFile reports whether path is a *_test.yaml (or .yml) file of config
// tests, which sits beside a config and is no config itself.
func isTestFile(path string) bool {
	return strings.HasSuffix(strings.TrimSuffix(path, filepath.Ext(path)), "_test")
}
