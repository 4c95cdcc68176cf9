package builtin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"os"
	"sync"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "hash",
		Summary: "Replace field values by their SHA-256 (hex), optionally keyed (HMAC).",
		Description: "`hash: [email, phone]`, or `hash: {fields: [email], key_env: NAME}` for a keyed " +
			"hash. Each listed field is replaced by the lowercase hex SHA-256 of its value. A " +
			"string is hashed over its UTF-8 bytes; any other value over its compact JSON " +
			"encoding with sorted keys, so `42` and `\"42\"` hash differently and equal objects " +
			"hash the same. Missing fields are skipped and `null` stays `null`, so absent values " +
			"do not all turn into one shared hash.\n\n" +
			"A plain hash of a guessable value (an e-mail address, a phone number) can be " +
			"reversed by hashing candidates. With `key_env: NAME` the hash is HMAC-SHA256 keyed " +
			"with the environment variable NAME, which is read once when the config is loaded: " +
			"an unset or empty variable is a config error naming the variable, and its value is " +
			"never printed. Keep the key stable: a new key changes every hash.",
		Config: spec.OneOf("Field paths, or an options object.",
			spec.List(spec.String("Field path."), 1, ""),
			spec.Object("",
				&spec.Field{Name: "fields", Type: spec.List(spec.String("Field path."), 1, ""), Required: true,
					Doc: "Field paths to hash.", Examples: []any{"[email]"}},
				&spec.Field{Name: "key_env", Type: spec.String(""),
					Doc: "Name of the environment variable that holds the HMAC key; without it the hash is not keyed."},
			),
		),
		Examples: []transforms.Example{
			{Title: "Hash an e-mail address", Config: `[email]`, Input: `{"email":"ada@example.com","n":1}`,
				Output: []string{`{"email":"b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72","n":1}`}},
			{Title: "Numbers and objects hash over their JSON", Config: `{fields: [id, address, missing]}`,
				Input:  `{"id":42,"address":{"city":"Oslo"},"note":null}`,
				Output: []string{`{"address":"99a8fa9e4312f0bfd68a60a3ca5a7fd7fad321910c43c41afc6702c0697920a4","id":"73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049","note":null}`}},
		},
	}, newHash)
}

type hasher struct {
	fields []string
	// pool holds HMAC states for the key; nil for a plain hash.
	pool *sync.Pool
}

func newHash(b *transforms.Build) (transforms.Transform, error) {
	if b.Config.Kind == spec.KindList {
		return &hasher{fields: b.Config.Strings()}, nil
	}
	h := &hasher{fields: b.Config.Get("fields").Strings()}
	if v := b.Config.Get("key_env"); v != nil {
		key, err := envKey(v)
		if err != nil {
			return nil, err
		}
		h.pool = &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	}
	return h, nil
}

// envKey reads the key from the environment variable named in v. Errors name
// the variable (unless the name itself came from the environment), never
// its value.
func envKey(v *spec.Value) ([]byte, error) {
	name := v.Text
	what := "environment variable " + name
	if v.Secret {
		what = "the environment variable named by key_env"
	}
	if name == "" {
		return nil, v.Errorf("key_env must name an environment variable")
	}
	val, ok := os.LookupEnv(name)
	if !ok {
		return nil, v.Errorf("%s is not set", what).WithHint("set it to the HMAC key, or remove key_env for a plain hash")
	}
	if val == "" {
		return nil, v.Errorf("%s is empty", what).WithHint("an HMAC key must not be empty")
	}
	return []byte(val), nil
}

func (h *hasher) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	for _, f := range h.fields {
		v, ok := transforms.Get(obj, f)
		if !ok || v == nil {
			continue
		}
		var data []byte
		if s, ok := v.(string); ok {
			data = []byte(s)
		} else if data, err = codec.Encode(v); err != nil {
			return nil, fieldError(f, "cannot be hashed: %v", err)
		}
		if err := transforms.Set(obj, f, h.sum(data)); err != nil {
			return nil, err
		}
	}
	return r.One(), nil
}

func (h *hasher) sum(data []byte) string {
	if h.pool == nil {
		s := sha256.Sum256(data)
		return hex.EncodeToString(s[:])
	}
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	m.Write(data)
	var buf [sha256.Size]byte
	s := hex.EncodeToString(m.Sum(buf[:0]))
	h.pool.Put(m)
	return s
}
