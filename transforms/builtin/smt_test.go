package builtin_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/transforms/builtin"
)

// Every config quoted in the SMT table builds, so the table cannot show a
// step that does not load.
func TestSMTMappingConfigsBuild(t *testing.T) {
	t.Setenv("HASH_KEY", "k")
	steps := regexp.MustCompile("`([a-z]+: .+?)`").FindAllStringSubmatch(builtin.SMTMapping, -1)
	if len(steps) < 15 {
		t.Fatalf("found only %d configs in the table", len(steps))
	}
	for _, m := range steps {
		if _, err := tryBuild("- " + m[1]); err != nil {
			t.Errorf("%s: %v", m[1], err)
		}
	}
	for _, smt := range []string{"InsertField", "ReplaceField", "MaskField", "ValueToKey", "ExtractField", "HoistField", "Cast",
		"Flatten", "TimestampConverter", "TimestampRouter", "RegexRouter", "Filter", "InsertHeader", "HeaderFrom", "DropHeaders", "SetSchemaMetadata"} {
		if !strings.Contains(builtin.SMTMapping, "| `"+smt+"`") {
			t.Errorf("the table has no row for %s", smt)
		}
	}
}

func TestSMTMappingRouters(t *testing.T) {
	for _, tc := range []struct{ steps, want string }{
		{`- route: 'kafka.topic + "-" + kafka.timestamp.Format("20060102")'`, "orders.eu-20240301"},
		{`- route: '"orders-" + trimPrefix(kafka.topic, "orders.")'`, "orders-eu"},
		{`- route: [{when: 'kafka.topic matches "^orders[.]"', topic: orders-all}]`, "orders-all"},
	} {
		r := record(t, `{}`)
		r.Source.Topic = "orders.eu"
		r.Timestamp = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
		if outs := runOne(t, tc.steps, r); outs[0].Topic != tc.want {
			t.Errorf("%s: topic %q, want %q", tc.steps, outs[0].Topic, tc.want)
		}
	}
}
