package builtin

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work where the system has no zoneinfo, as in scratch images

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// timeLayout is how the timestamp transform reads and writes a time: a Go
// layout, or a count of units since the Unix epoch.
type timeLayout struct {
	name   string
	parse  string // Go layout for reading
	format string // Go layout for writing
	unit   time.Duration
}

func (l timeLayout) numeric() bool { return l.unit != 0 }

// namedLayouts are the layouts the timestamp transform knows by name.
var namedLayouts = map[string]timeLayout{
	"rfc3339":  {parse: time.RFC3339, format: time.RFC3339Nano},
	"rfc1123":  {parse: time.RFC1123Z, format: time.RFC1123Z},
	"date":     {parse: time.DateOnly, format: time.DateOnly},
	"datetime": {parse: time.DateTime, format: time.DateTime},
	"unix":     {unit: time.Second},
	"unix_ms":  {unit: time.Millisecond},
	"unix_us":  {unit: time.Microsecond},
	"unix_ns":  {unit: time.Nanosecond},
}

var layoutNames = slices.Sorted(maps.Keys(namedLayouts))

const layoutDoc = "A name (`rfc3339`, `rfc1123`, `date`, `datetime`, `unix`, `unix_ms`, `unix_us`, `unix_ns`) or a Go layout such as `02/01/2006 15:04`."

func init() {
	transforms.Register(transforms.Spec{
		Name:    "timestamp",
		Summary: "Parse a time field, reformat it, convert its time zone, set the record timestamp.",
		Description: "The field is read with the `from` layout, then written back (or to `target`) " +
			"with the `to` layout, in the `timezone` when one is given. With " +
			"`set_record_timestamp: true` the time also becomes the Kafka record timestamp of " +
			"the output. The field is rewritten only when `to`, `timezone` or `target` is given.\n\n" +
			"| layout | reads | writes |\n| --- | --- | --- |\n" +
			"| `rfc3339` (default) | `2024-03-01T10:00:00+01:00`, with any fraction of a second | the same, with as many fractional digits as needed |\n" +
			"| `rfc1123` | `Fri, 01 Mar 2024 10:00:00 +0100` | the same |\n" +
			"| `date`, `datetime` | `2024-03-01`, `2024-03-01 10:00:00` | the same |\n" +
			"| `unix`, `unix_ms`, `unix_us`, `unix_ns` | a number, or a string of digits; `unix` takes a fraction | an integer |\n" +
			"| a Go layout | text in the layout, written with Go's reference time `2006-01-02T15:04:05Z07:00` | the same |\n\n" +
			"Text without an offset is read in `from_timezone` (default UTC). Time zones are IANA " +
			"names such as `Europe/Berlin`, loaded when the config is; Millrace carries its own " +
			"copy of the zone database. A Unix time is absolute, so `timezone` needs a text `to` " +
			"layout. A missing field, `null`, or a value that does not match the layout fails the " +
			"record. This is Kafka Connect's `TimestampConverter`.",
		Config: spec.Object("",
			&spec.Field{Name: "field", Type: spec.String(""), Required: true, Doc: "Field path of the time.", Examples: []any{"created_at"}},
			&spec.Field{Name: "from", Type: spec.String(""), Default: "rfc3339", Doc: "Layout to read. " + layoutDoc},
			&spec.Field{Name: "to", Type: spec.String(""), Doc: "Layout to write; defaults to from. " + layoutDoc},
			&spec.Field{Name: "timezone", Type: spec.String(""), Doc: "Time zone to write text in, such as `Europe/Berlin` or `UTC`; without it a time keeps the offset it was read with."},
			&spec.Field{Name: "from_timezone", Type: spec.String(""), Default: "UTC", Doc: "Time zone of text that has no offset."},
			&spec.Field{Name: "target", Type: spec.String(""), Doc: "Field path to write; defaults to field."},
			&spec.Field{Name: "set_record_timestamp", Type: spec.Bool(""), Default: false, Doc: "Also make the time the Kafka record timestamp."},
		),
		Examples: []transforms.Example{
			{Title: "Unix milliseconds to RFC 3339 in Berlin", Config: `{field: ts, from: unix_ms, to: rfc3339, timezone: Europe/Berlin}`,
				Input: `{"ts":1709283600000}`, Output: []string{`{"ts":"2024-03-01T10:00:00+01:00"}`}},
			{Title: "A Go layout into a new field", Config: `{field: when, from: "02/01/2006 15:04", from_timezone: America/New_York, to: rfc3339, timezone: UTC, target: when_utc}`,
				Input: `{"when":"01/03/2024 04:00"}`, Output: []string{`{"when":"01/03/2024 04:00","when_utc":"2024-03-01T09:00:00Z"}`}},
			{Title: "Set the record timestamp only", Config: `{field: created, set_record_timestamp: true}`,
				Input: `{"created":"2024-03-01T10:00:00.250Z"}`, Output: []string{`{"created":"2024-03-01T10:00:00.250Z"}`},
				Timestamp: "2024-03-01T10:00:00.25Z"},
			{Title: "Text that does not match fails", Config: `{field: ts, from: date, to: unix}`, Input: `{"ts":"01.03.2024"}`,
				Error: `field ts: cannot read a string of 10 characters as date`},
		},
	}, newTimestamp)
}

type timestampT struct {
	field, target string
	from, to      timeLayout
	rewrite       bool
	loc, fromLoc  *time.Location
	setRecord     bool
}

// timestampConfig is timestamp's config; its spec declares the defaults.
type timestampConfig struct {
	Field              string
	From               *spec.Value
	To                 *spec.Value
	Timezone           *spec.Value
	FromTimezone       *spec.Value
	Target             *spec.Value
	SetRecordTimestamp bool
}

func newTimestamp(b *transforms.Build) (transforms.Transform, error) {
	var c timestampConfig
	if err := b.Decode(&c); err != nil {
		return nil, err
	}
	t := &timestampT{field: c.Field, target: c.Field, setRecord: c.SetRecordTimestamp}
	var errs spec.Errors
	var err error
	if t.from, err = layout(c.From); err != nil {
		errs.Add(c.From.Pos, err)
	}
	t.to = t.from
	if v := c.To; v != nil {
		if t.to, err = layout(v); err != nil {
			errs.Add(v.Pos, err)
		}
		t.rewrite = true
	}
	if v := c.Target; v != nil {
		t.target, t.rewrite = v.Text, true
	}
	if v := c.Timezone; v != nil {
		if t.loc, err = location(v); err != nil {
			errs.Add(v.Pos, err)
		}
		if t.to.numeric() && err == nil {
			errs.Add(v.Pos, v.Errorf("timezone has no effect on %s, which is absolute", t.to.name).WithHint("add to: rfc3339 or another text layout"))
		}
		t.rewrite = true
	}
	v := c.FromTimezone
	if t.fromLoc, err = location(v); err != nil {
		errs.Add(v.Pos, err)
	}
	if given := b.Config.Get("from_timezone") != nil; given && t.from.numeric() && err == nil {
		errs.Add(v.Pos, v.Errorf("from_timezone has no effect on %s, which is absolute", t.from.name))
	}
	if !t.rewrite && !t.setRecord {
		errs = append(errs, b.Config.Errorf("timestamp changes nothing").WithHint("give to, timezone, target or set_record_timestamp: true"))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// layout reads a named or Go layout from the config.
func layout(v *spec.Value) (timeLayout, error) {
	if l, ok := namedLayouts[v.Text]; ok {
		l.name = v.Text
		return l, nil
	}
	// A text close to a name is a typo even when it happens to hold a Go
	// layout element ("rfc3399" has the hour 3).
	if s := spec.Suggest(v.Text, layoutNames); s != "" {
		return timeLayout{}, v.Errorf("unknown layout %q", v.Text).WithHint(fmt.Sprintf("did you mean %q?", s))
	}
	// A layout shows a time other than the reference one differently from
	// itself, unless it holds no date or time elements at all.
	probe := time.Date(1999, 11, 28, 21, 37, 48, 123456789, time.FixedZone("X", 3*3600+1800))
	if probe.Format(v.Text) == v.Text {
		return timeLayout{}, v.Errorf("unknown layout %q", v.Text).WithHint("use one of " + strings.Join(layoutNames, ", ") +
			", or a Go layout written with the reference time 2006-01-02T15:04:05Z07:00")
	}
	return timeLayout{name: strconv.Quote(v.Text), parse: v.Text, format: v.Text}, nil
}

// location loads a time zone from the config.
func location(v *spec.Value) (*time.Location, error) {
	if v.Text == "" || strings.EqualFold(v.Text, "local") {
		return nil, v.Errorf("time zone %q is not allowed", v.Text).WithHint("name the zone, such as UTC or Europe/Berlin, so the result does not depend on the machine")
	}
	loc, err := time.LoadLocation(v.Text)
	if err != nil {
		return nil, v.Errorf("unknown time zone %q", v.Text).WithHint("use an IANA name such as UTC or Europe/Berlin")
	}
	return loc, nil
}

func (t *timestampT) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	v, ok := transforms.Get(obj, t.field)
	if !ok || v == nil {
		return nil, fieldError(t.field, "is missing")
	}
	tm, ok := t.read(v)
	if !ok {
		return nil, fmt.Errorf("field %s: cannot read %s as %s", t.field, describeValue(v), t.from.name)
	}
	if t.rewrite {
		if err := transforms.Set(obj, t.target, t.write(tm)); err != nil {
			return nil, err
		}
	}
	if t.setRecord {
		r.Timestamp = tm
	}
	return r.One(), nil
}

func (t *timestampT) read(v any) (time.Time, bool) {
	if t.from.numeric() {
		return readUnix(v, t.from.unit)
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	tm, err := time.ParseInLocation(t.from.parse, s, t.fromLoc)
	return tm, err == nil
}

// readUnix reads a count of units since the epoch from a number or a string
// of digits.
func readUnix(v any, unit time.Duration) (time.Time, bool) {
	switch x := v.(type) {
	case int:
		return unixInt(int64(x), unit), true
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return unixInt(n, unit), true
		}
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, false
		}
		return unixFloat(f, unit)
	case float64:
		return unixFloat(x, unit)
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return unixInt(n, unit), true
		}
		if unit != time.Second {
			return time.Time{}, false
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, false
		}
		return unixFloat(f, unit)
	}
	return time.Time{}, false
}

func unixInt(n int64, unit time.Duration) time.Time {
	per := int64(time.Second / unit)
	sec, rest := n/per, n%per
	if rest < 0 {
		sec, rest = sec-1, rest+per
	}
	return time.Unix(sec, rest*int64(unit)).UTC()
}

func unixFloat(f float64, unit time.Duration) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	t, err := unixScaled(f, unit)
	return t, err == nil
}

func (t *timestampT) write(tm time.Time) any {
	if t.to.numeric() {
		switch t.to.unit {
		case time.Second:
			return int(tm.Unix())
		case time.Millisecond:
			return int(tm.UnixMilli())
		case time.Microsecond:
			return int(tm.UnixMicro())
		}
		return int(tm.UnixNano())
	}
	if t.loc != nil {
		tm = tm.In(t.loc)
	}
	return tm.Format(t.to.format)
}
