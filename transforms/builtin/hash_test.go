package builtin_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func hmacHex(key, s string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

func TestHash(t *testing.T) {
	runCases(t, []runCase{
		{name: "string", steps: `- hash: [a]`, in: `{"a":"x"}`, want: []string{`{"a":"` + sha("x") + `"}`}},
		{name: "nested", steps: `- hash: {fields: [a.b]}`, in: `{"a":{"b":"x","c":1}}`, want: []string{`{"a":{"b":"` + sha("x") + `","c":1}}`}},
		{name: "number, boolean and string differ", steps: `- hash: [n, b, s]`, in: `{"n":42,"b":true,"s":"42"}`,
			want: []string{`{"b":"` + sha("true") + `","n":"` + sha("42") + `","s":"` + sha("42") + `"}`}},
		{name: "object keys sorted", steps: `- hash: [o]`, in: `{"o":{"z":1,"a":[1,"<"]}}`, want: []string{`{"o":"` + sha(`{"a":[1,"<"],"z":1}`) + `"}`}},
		{name: "float and big integer", steps: `- hash: [f, g]`, in: `{"f":1.5,"g":123456789012345678901234567890}`,
			want: []string{`{"f":"` + sha("1.5") + `","g":"` + sha("123456789012345678901234567890") + `"}`}},
		{name: "null and missing", steps: `- hash: [a, b]`, in: `{"a":null}`, want: []string{`{"a":null}`}},
		{name: "empty string", steps: `- hash: [a]`, in: `{"a":""}`, want: []string{`{"a":"` + sha("") + `"}`}},
		{name: "not an object", steps: `- hash: [a]`, in: `1`, err: `step 0 (hash): record value is not a JSON object`},
	})
}

func TestHashHMAC(t *testing.T) {
	t.Setenv("MILLRACE_TEST_HASH_KEY", "k3y")
	runCases(t, []runCase{
		{name: "keyed", steps: `- hash: {fields: [a, n], key_env: MILLRACE_TEST_HASH_KEY}`, in: `{"a":"x","n":7}`,
			want: []string{`{"a":"` + hmacHex("k3y", "x") + `","n":"` + hmacHex("k3y", "7") + `"}`}},
	})
	// The key is read once, at build: a change later has no effect.
	chain := buildChain(t, `- hash: {fields: [a], key_env: MILLRACE_TEST_HASH_KEY}`)
	t.Setenv("MILLRACE_TEST_HASH_KEY", "other")
	got, err := runJSON(t, chain, `{"a":"x"}`)
	if err != nil || got[0] != `{"a":"`+hmacHex("k3y", "x")+`"}` {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestHashConfigErrors(t *testing.T) {
	t.Setenv("MILLRACE_TEST_EMPTY_KEY", "")
	t.Setenv("MILLRACE_TEST_SECRET_KEY", "do-not-print-me")
	configErrors(t, []configCase{
		{`- hash: {fields: [a], key_env: MILLRACE_TEST_UNSET_KEY}`,
			"steps.yaml:1:32: environment variable MILLRACE_TEST_UNSET_KEY is not set (set it to the HMAC key, or remove key_env for a plain hash)"},
		{`- hash: {fields: [a], key_env: MILLRACE_TEST_EMPTY_KEY}`,
			"steps.yaml:1:32: environment variable MILLRACE_TEST_EMPTY_KEY is empty (an HMAC key must not be empty)"},
		{`- hash: {fields: [a], key_env: ""}`, "steps.yaml:1:32: key_env must name an environment variable"},
		{`- hash: {key_env: X}`, "steps.yaml:1:9: missing required key \"fields\" (add fields: [email])"},
		{`- hash: {fields: a}`, "steps.yaml:1:18: expected a list of strings, got a string"},
		{`- hash: email`, "steps.yaml:1:9: expected a list of strings or a mapping, got a string"},
	})
	// A wrong config never shows the key.
	for _, steps := range []string{
		`- hash: {fields: [a], key_env: MILLRACE_TEST_SECRET_KEY, extra: 1}`,
		`- hash: {fields: [], key_env: MILLRACE_TEST_SECRET_KEY}`,
	} {
		_, err := tryBuild(steps)
		if err == nil || strings.Contains(err.Error(), "do-not-print-me") {
			t.Errorf("%s: %v", steps, err)
		}
	}
}
