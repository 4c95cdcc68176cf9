package cli

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/spf13/cobra"
)

// newPauseCmd and newResumeCmd ask a running runner's admin server to pause
// or resume one of its pipelines.
func newPauseCmd(g *globals) *cobra.Command  { return controlCmd(g, "pause") }
func newResumeCmd(g *globals) *cobra.Command { return controlCmd(g, "resume") }

func controlCmd(g *globals, action string) *cobra.Command {
	var adminAddr string
	short := map[string]string{
		"pause":  "Pause a running pipeline: it stops fetching, keeps its partitions, finishes and commits what is in flight",
		"resume": "Resume a paused pipeline where it stopped",
	}[action]
	cmd := &cobra.Command{
		Use:   action + " NAME",
		Short: short,
		Long: short + ".\n" +
			"It asks the runner's admin server (POST /api/pipelines/NAME/" + action + "): the one at --admin-addr, else\n" +
			"at admin.address of the config (-c, when the file exists), else 127.0.0.1:9469. The config's admin.auth\n" +
			"and admin.tls give the credentials and the certificate to trust.",
		Example: "  pipeline-runner " + action + " enrich-orders\n  pipeline-runner " + action + " enrich-orders --admin-addr 10.0.0.5:9469 -c prod.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.adminConfig()
			if err != nil {
				return err
			}
			if adminAddr != "" {
				a.Address = adminAddr
			}
			if !a.Enabled() {
				return usageErr("the admin server is off (admin.address: off): give its address with --admin-addr")
			}
			if err := config.CheckAdminAddress(a.Address); err != nil {
				return usageErr("admin address %q %v: use host:port", a.Address, err)
			}
			msg, err := postControl(a, args[0], action)
			if err != nil {
				return &exitError{exitRuntime, err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	cmd.Flags().StringVar(&adminAddr, "admin-addr", "", "host:port of the runner's admin server (default: the config's admin.address)")
	return cmd
}

// adminConfig is the admin section of the config: of -c when given (its
// errors are exit 2), of pipelines.yaml when it exists, else the defaults.
func (g *globals) adminConfig() (config.Admin, error) {
	if !g.configSet {
		if _, err := os.Stat(g.configPath); errors.Is(err, os.ErrNotExist) {
			return config.Admin{Address: config.DefaultAdminAddress}, nil
		}
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return config.Admin{}, err
	}
	return cfg.Admin, nil
}

// postControl sends the request and returns what to print.
func postControl(a config.Admin, name, action string) (string, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	scheme := "http"
	if a.CertFile != "" {
		scheme = "https"
		pem, err := os.ReadFile(a.CertFile)
		if err != nil {
			return "", err
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	}
	u := scheme + "://" + a.Address + "/api/pipelines/" + url.PathEscape(name) + "/" + action
	req, err := http.NewRequest(http.MethodPost, u, nil)
	if err != nil {
		return "", err
	}
	switch {
	case a.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+a.BearerToken)
	case a.Password != "":
		req.SetBasicAuth(a.User, a.Password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: cannot reach the admin server: %w", action, name, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var answer struct{ Error, State string }
	_ = json.Unmarshal(body, &answer)
	if resp.StatusCode != http.StatusOK {
		why := answer.Error
		if why == "" {
			why = strings.TrimSpace(string(body))
		}
		return "", fmt.Errorf("%s %s: the admin server at %s answered %s: %s", action, name, a.Address, resp.Status, why)
	}
	return fmt.Sprintf("pipeline %s %s", name, answer.State), nil
}
