package builtin_test

import (
	"testing"
	"time"

	"github.com/millrace-dev/millrace/transforms/codec"
)

func TestTimestamp(t *testing.T) {
	runCases(t, []runCase{
		{name: "rfc3339 to unix_ms", steps: `- timestamp: {field: t, to: unix_ms}`, in: `{"t":"2024-03-01T10:00:00.123+01:00"}`,
			want: []string{`{"t":1709283600123}`}},
		{name: "unix to rfc3339 keeps UTC", steps: `- timestamp: {field: t, from: unix, to: rfc3339}`, in: `{"t":1709283600}`,
			want: []string{`{"t":"2024-03-01T09:00:00Z"}`}},
		{name: "unix with a fraction", steps: `- timestamp: {field: t, from: unix, to: rfc3339}`, in: `{"t":1709283600.25}`,
			want: []string{`{"t":"2024-03-01T09:00:00.25Z"}`}},
		{name: "unix as text", steps: `- timestamp: {field: t, from: unix, to: unix_ms}`, in: `{"t":" 1709283600 "}`,
			want: []string{`{"t":1709283600000}`}},
		{name: "unix_us and unix_ns", steps: "- timestamp: {field: t, from: unix_us, to: unix_ns}", in: `{"t":1709283600000001}`,
			want: []string{`{"t":1709283600000001000}`}},
		{name: "unix_ns to rfc3339", steps: "- timestamp: {field: t, from: unix_ns, to: rfc3339}", in: `{"t":1709283600000000001}`,
			want: []string{`{"t":"2024-03-01T09:00:00.000000001Z"}`}},
		{name: "negative unix_ms", steps: `- timestamp: {field: t, from: unix_ms, to: rfc3339}`, in: `{"t":-1}`,
			want: []string{`{"t":"1969-12-31T23:59:59.999Z"}`}},
		{name: "rfc3339 keeps its offset", steps: `- timestamp: {field: t, to: rfc3339}`, in: `{"t":"2024-03-01T10:00:00.500000+01:00"}`,
			want: []string{`{"t":"2024-03-01T10:00:00.5+01:00"}`}},
		{name: "to a zone", steps: `- timestamp: {field: t, timezone: Asia/Kolkata}`, in: `{"t":"2024-03-01T10:00:00Z"}`,
			want: []string{`{"t":"2024-03-01T15:30:00+05:30"}`}},
		{name: "summer time", steps: `- timestamp: {field: t, from: unix, to: datetime, timezone: Europe/Berlin}`, in: `{"t":1719835200}`,
			want: []string{`{"t":"2024-07-01 14:00:00"}`}},
		{name: "text without offset in a zone", steps: `- timestamp: {field: t, from: datetime, from_timezone: Europe/Berlin, to: unix}`,
			in: `{"t":"2024-07-01 14:00:00"}`, want: []string{`{"t":1719835200}`}},
		{name: "text without offset is UTC", steps: `- timestamp: {field: t, from: date, to: rfc3339}`, in: `{"t":"2024-07-01"}`,
			want: []string{`{"t":"2024-07-01T00:00:00Z"}`}},
		{name: "rfc1123", steps: `- timestamp: {field: t, from: rfc1123, to: rfc3339}`, in: `{"t":"Fri, 01 Mar 2024 10:00:00 +0100"}`,
			want: []string{`{"t":"2024-03-01T10:00:00+01:00"}`}},
		{name: "go layouts", steps: `- timestamp: {field: t, from: "Jan 2 2006 3:04PM", to: "2006/01/02 15h04"}`, in: `{"t":"Mar 1 2024 9:05PM"}`,
			want: []string{`{"t":"2024/03/01 21h05"}`}},
		{name: "to a nested target", steps: `- timestamp: {field: a.t, from: unix, to: date, target: b.day}`, in: `{"a":{"t":0}}`,
			want: []string{`{"a":{"t":0},"b":{"day":"1970-01-01"}}`}},
		{name: "missing", steps: `- timestamp: {field: t, to: unix}`, in: `{}`, err: `step 0 (timestamp): field t is missing`},
		{name: "null", steps: `- timestamp: {field: t, to: unix}`, in: `{"t":null}`, err: `step 0 (timestamp): field t is missing`},
		{name: "number for a text layout", steps: `- timestamp: {field: t, to: unix}`, in: `{"t":5}`, err: `step 0 (timestamp): field t: cannot read a number as rfc3339`},
		{name: "text for unix", steps: `- timestamp: {field: t, from: unix_ms, to: rfc3339}`, in: `{"t":"soon"}`,
			err: `step 0 (timestamp): field t: cannot read a string of 4 characters as unix_ms`},
		{name: "fraction for unix_ms text", steps: `- timestamp: {field: t, from: unix_ms, to: rfc3339}`, in: `{"t":"1.5"}`,
			err: `step 0 (timestamp): field t: cannot read a string of 3 characters as unix_ms`},
		{name: "no match for a go layout", steps: `- timestamp: {field: t, from: "2006-01-02", to: unix}`, in: `{"t":"01.03.2024"}`,
			err: `step 0 (timestamp): field t: cannot read a string of 10 characters as "2006-01-02"`},
		{name: "target through a scalar", steps: `- timestamp: {field: t, target: t.x}`, in: `{"t":"2024-03-01T10:00:00Z"}`,
			err: `step 0 (timestamp): field t is not an object`},
		{name: "not an object", steps: `- timestamp: {field: t, to: unix}`, in: `1`, err: `step 0 (timestamp): record value is not a JSON object`},
	})
}

func TestTimestampRecord(t *testing.T) {
	r := record(t, `{"t":1709283600123}`)
	old := time.Unix(1, 0)
	r.Timestamp = old
	outs := runOne(t, `- timestamp: {field: t, from: unix_ms, set_record_timestamp: true}`, r)
	if got := outs[0].Timestamp; !got.Equal(time.UnixMilli(1709283600123)) {
		t.Errorf("record timestamp = %v", got)
	}
	if b, _ := codec.Encode(outs[0].Value); string(b) != `{"t":1709283600123}` {
		t.Errorf("value changed: %s", b)
	}
	// Without set_record_timestamp the record timestamp stays.
	r = record(t, `{"t":1709283600123}`)
	r.Timestamp = old
	outs = runOne(t, `- timestamp: {field: t, from: unix_ms, to: rfc3339, set_record_timestamp: false}`, r)
	if !outs[0].Timestamp.Equal(old) {
		t.Errorf("record timestamp changed to %v", outs[0].Timestamp)
	}
}

func TestTimestampConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- timestamp: {field: t}`, "steps.yaml:1:14: timestamp changes nothing (give to, timezone, target or set_record_timestamp: true)"},
		{`- timestamp: {field: t, to: unix_msec}`, `steps.yaml:1:29: unknown layout "unix_msec" (did you mean "unix_ms"?)`},
		{`- timestamp: {field: t, from: yyyy-MM-dd, to: unix}`, `steps.yaml:1:31: unknown layout "yyyy-MM-dd" (use one of date, datetime, rfc1123, rfc3339, unix, unix_ms, unix_ns, unix_us, or a Go layout written with the reference time 2006-01-02T15:04:05Z07:00)`},
		{`- timestamp: {field: t, timezone: Europe/Berln}`, `steps.yaml:1:35: unknown time zone "Europe/Berln" (use an IANA name such as UTC or Europe/Berlin)`},
		{`- timestamp: {field: t, timezone: Local}`, `steps.yaml:1:35: time zone "Local" is not allowed (name the zone, such as UTC or Europe/Berlin, so the result does not depend on the machine)`},
		{`- timestamp: {field: t, from: unix, timezone: UTC}`, `steps.yaml:1:47: timezone has no effect on unix, which is absolute (add to: rfc3339 or another text layout)`},
		{`- timestamp: {field: t, from: unix_ms, from_timezone: UTC, to: date}`, `steps.yaml:1:55: from_timezone has no effect on unix_ms, which is absolute`},
		{`- timestamp: {to: unix}`, "steps.yaml:1:14: missing required key \"field\" (add field: created_at)"},
		{`- timestamp: {field: t, set_record_timestamp: yes}`, "steps.yaml:1:47: expected a boolean, got a string (YAML 1.2 reads yes as a string: write true or false)"},
		// Every mistake is reported.
		{`- timestamp: {field: t, from: rfc3399, to: nada}`, `steps.yaml:1:31: unknown layout "rfc3399" (did you mean "rfc3339"?)` + "\n" +
			`steps.yaml:1:44: unknown layout "nada" (use one of date, datetime, rfc1123, rfc3339, unix, unix_ms, unix_ns, unix_us, or a Go layout written with the reference time 2006-01-02T15:04:05Z07:00)`},
	})
}
