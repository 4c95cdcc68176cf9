package builtin_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// benchRecord is a typical order event, about 200 bytes of JSON.
const benchRecord = `{"id":"ord-1","user_id":"u-42","amount":"129.90","status":"paid","ts":1709283600123,` +
	`"customer":{"email":"ada@example.com","country":"DE","card":"4111111111111111"},` +
	`"items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"debug":true}`

// benchSteps is one step per built-in transform, on benchRecord.
var benchSteps = map[string]string{
	"cast":      `- cast: {amount: float, ts: timestamp}`,
	"dedupe":    `- dedupe: {key: 'id', max_entries: 1000}`,
	"drop":      `- drop: [debug, customer.card]`,
	"extract":   `- extract: customer`,
	"filter":    `- filter: 'status == "paid" && len(items) > 0'`,
	"flatten":   `- flatten: {}`,
	"hash":      `- hash: [customer.email]`,
	"headers":   `- headers: {set: {country: customer.country}, from_fields: {user: user_id}, remove: [x]}`,
	"hoist":     `- hoist: payload`,
	"jq":        `- jq: '{id, user_id, n: (.items | length)}'`,
	"keep":      `- keep: [id, amount, customer.country]`,
	"key":       `- key: user_id`,
	"mask":      `- mask: {customer.card: {keep_last: 4}, customer.email: {pattern: '^[^@]+', replacement: '***'}}`,
	"rename":    `- rename: {user_id: user, customer.country: country}`,
	"route":     `- route: [{when: 'customer.country == "DE"', topic: orders-de}, {when: 'true', topic: orders}]`,
	"set":       `- set: {total_cents: 'int(float(amount) * 100)', region: '"eu"'}`,
	"split":     `- split: items`,
	"timestamp": `- timestamp: {field: ts, from: unix_ms, to: rfc3339, timezone: Europe/Berlin, set_record_timestamp: true}`,
	"unflatten": `- unflatten: {}`,
	"validate":  `- validate: {schema_file: SCHEMA}`,
}

const benchSchema = `{"type":"object","required":["id","amount","customer"],"properties":{` +
	`"id":{"type":"string"},"amount":{"type":"string"},"ts":{"type":"integer","minimum":0},` +
	`"customer":{"type":"object","properties":{"email":{"type":"string"},"country":{"type":"string","minLength":2}}},` +
	`"items":{"type":"array","items":{"type":"object","required":["sku"]}}}}`

// BenchmarkTransform runs each built-in transform on a copy of the decoded
// record; BenchmarkTransform/baseline is the cost of that copy alone.
func BenchmarkTransform(b *testing.B) {
	schema := filepath.Join(b.TempDir(), "order.json")
	if err := os.WriteFile(schema, []byte(benchSchema), 0o644); err != nil {
		b.Fatal(err)
	}
	value, err := codec.Decode([]byte(benchRecord))
	if err != nil {
		b.Fatal(err)
	}
	flat := buildChain(b, "- flatten: {}")
	outs, err := flat.Run(context.Background(), &transforms.Record{Value: codec.DeepCopy(value)})
	if err != nil {
		b.Fatal(err)
	}
	flatValue := outs[0].Value

	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = &transforms.Record{Value: codec.DeepCopy(value)}
		}
	})
	for _, name := range transforms.Default.Names() {
		steps, ok := benchSteps[name]
		if !ok {
			b.Errorf("no benchmark for %s", name)
			continue
		}
		if name == "validate" {
			steps = `- validate: {schema_file: "` + schema + `"}`
		}
		in := value
		if name == "unflatten" {
			in = flatValue
		}
		chain := buildChain(b, steps)
		ctx := context.Background()
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				r := &transforms.Record{Value: codec.DeepCopy(in)}
				if name == "dedupe" {
					r.Value.(map[string]any)["id"] = n // a new key each time
					n++
				}
				if _, err := chain.Run(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChain is the whole record path of a typical pipeline: decode the
// value, run six steps, encode the output.
func BenchmarkChain(b *testing.B) {
	chain := buildChain(b, `
- filter: 'status == "paid"'
- cast: {amount: float}
- set: {total_cents: 'int(amount * 100)'}
- mask: {customer.card: {keep_last: 4}}
- key: user_id
- drop: [debug]
`)
	data := []byte(benchRecord)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := codec.Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		outs, err := chain.Run(ctx, &transforms.Record{Value: v})
		if err != nil || len(outs) != 1 {
			b.Fatal(outs, err)
		}
		if _, err := codec.Encode(outs[0].Value); err != nil {
			b.Fatal(err)
		}
	}
}
