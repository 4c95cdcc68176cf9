package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Fingerprint identifies pipeline name's config as written, without
// positions: a reload runs a pipeline on as before when its fingerprint is
// the same, and restarts it when it differs. It is a hash, so that values
// from the environment do not show in it.
// Names not in the config have none ("").
func (c *Config) Fingerprint(name string) string {
	if ps := c.root.Get("pipelines"); ps != nil {
		for _, pv := range ps.Items {
			if n := pv.Get("name"); n != nil && n.Text == name {
				return fingerprint(pv.Plain())
			}
		}
	}
	return ""
}

// SettingsFingerprint identifies everything of the config but its
// pipelines and tests (kafka, runner, admin): settings a reload cannot
// change under running pipelines.
func (c *Config) SettingsFingerprint() string {
	rest := map[string]any{}
	if c.root != nil {
		for _, e := range c.root.Entries {
			if k := e.Key.Text; k != "pipelines" && k != "tests" {
				rest[k] = e.Value.Plain()
			}
		}
	}
	return fingerprint(rest)
}

// fingerprint hashes plain values; fmt prints maps with sorted keys.
func fingerprint(v any) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%#v", v))
	return hex.EncodeToString(sum[:])
}
