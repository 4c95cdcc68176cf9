package builtin_test

import "testing"

func TestCast(t *testing.T) {
	runCases(t, []runCase{
		// string
		{name: "to string", steps: `- cast: {i: string, f: string, b: string, s: string, o: string, l: string, g: string}`,
			in:   `{"i":42,"f":1.5,"b":false,"s":"x","o":{"b":1,"a":"<"},"l":[1,null],"g":123456789012345678901234567890}`,
			want: []string{`{"b":"false","f":"1.5","g":"123456789012345678901234567890","i":"42","l":"[1,null]","o":"{\"a\":\"<\",\"b\":1}","s":"x"}`}},
		{name: "small and large floats to string", steps: `- cast: {a: string, b: string}`, in: `{"a":0.000001,"b":1e21}`,
			want: []string{`{"a":"0.000001","b":"1e+21"}`}},
		// int
		{name: "to int", steps: `- cast: {a: int, b: int, c: int, d: int, e: int, f: int, g: int}`,
			in:   `{"a":" 42 ","b":-7.9,"c":true,"d":false,"e":"12.7","f":"1e3","g":5}`,
			want: []string{`{"a":42,"b":-7,"c":1,"d":0,"e":12,"f":1000,"g":5}`}},
		{name: "big integers keep their digits", steps: `- cast: {a: int, b: int}`, in: `{"a":"123456789012345678901234567890","b":123456789012345678901234567890}`,
			want: []string{`{"a":123456789012345678901234567890,"b":123456789012345678901234567890}`}},
		{name: "int out of range", steps: `- cast: {a: int}`, in: `{"a":1e300}`, err: `step 0 (cast): field a: cannot cast a number to int`},
		{name: "int from text", steps: `- cast: {a: int}`, in: `{"a":"12abc"}`, err: `step 0 (cast): field a: cannot cast a string of 5 characters to int`},
		{name: "int from an object", steps: `- cast: {a: int}`, in: `{"a":{"b":1}}`, err: `step 0 (cast): field a: cannot cast an object to int`},
		{name: "int from empty text", steps: `- cast: {a: int}`, in: `{"a":""}`, err: `step 0 (cast): field a: cannot cast a string of 0 characters to int`},
		// float
		{name: "to float", steps: `- cast: {a: float, b: float, c: float, d: float}`, in: `{"a":"3.25","b":2,"c":true,"d":"-1e-3"}`,
			want: []string{`{"a":3.25,"b":2,"c":1,"d":-0.001}`}},
		{name: "NaN text is no float", steps: `- cast: {a: float}`, in: `{"a":"NaN"}`, err: `step 0 (cast): field a: cannot cast a string of 3 characters to float`},
		{name: "float from a list", steps: `- cast: {a: float}`, in: `{"a":[1]}`, err: `step 0 (cast): field a: cannot cast a list to float`},
		// bool
		{name: "to bool", steps: `- cast: {a: bool, b: bool, c: bool, d: bool, e: bool, f: bool, g: bool}`,
			in:   `{"a":"TRUE","b":" no ","c":0,"d":2.5,"e":"off","f":"1","g":true}`,
			want: []string{`{"a":true,"b":false,"c":false,"d":true,"e":false,"f":true,"g":true}`}},
		{name: "bool from text", steps: `- cast: {a: bool}`, in: `{"a":"maybe"}`, err: `step 0 (cast): field a: cannot cast a string of 5 characters to bool`},
		// timestamp
		{name: "to timestamp", steps: `- cast: {s: timestamp, ms: timestamp, f: timestamp, txt: timestamp, txtms: timestamp, neg: timestamp, z: timestamp}`,
			in: `{"s":0,"ms":1700000000000,"f":1700000000.5,"txt":"1700000000","txtms":"1700000000123","neg":-86400,"z":"2024-03-01T10:00:00.123456789-05:30"}`,
			want: []string{`{"f":"2023-11-14T22:13:20.5Z","ms":"2023-11-14T22:13:20Z","neg":"1969-12-31T00:00:00Z","s":"1970-01-01T00:00:00Z",` +
				`"txt":"2023-11-14T22:13:20Z","txtms":"2023-11-14T22:13:20.123Z","z":"2024-03-01T15:30:00.123456789Z"}`}},
		{name: "float seconds rounded to microseconds", steps: `- cast: {f: timestamp}`, in: `{"f":1700000000.123456}`,
			want: []string{`{"f":"2023-11-14T22:13:20.123456Z"}`}},
		{name: "timestamp from other text", steps: `- cast: {a: timestamp}`, in: `{"a":"2024-03-01"}`, err: `step 0 (cast): field a: cannot cast a string of 10 characters to timestamp`},
		{name: "timestamp from a boolean", steps: `- cast: {a: timestamp}`, in: `{"a":true}`, err: `step 0 (cast): field a: cannot cast a boolean to timestamp`},
		{name: "timestamp out of range", steps: `- cast: {a: timestamp}`, in: `{"a":1e300}`, err: `step 0 (cast): field a: cannot cast a number to timestamp`},
		// general
		{name: "null and missing", steps: `- cast: {a: int, b: string}`, in: `{"a":null}`, want: []string{`{"a":null}`}},
		{name: "nested path", steps: `- cast: {a.b: int}`, in: `{"a":{"b":"1"}}`, want: []string{`{"a":{"b":1}}`}},
		{name: "the value is never in the error", steps: `- cast: {a: int}`, in: `{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`,
			err: `step 0 (cast): field a: cannot cast a string of 60 characters to int`},
		{name: "not an object", steps: `- cast: {a: int}`, in: `null`, err: `step 0 (cast): record value is not a JSON object`},
	})
}

func TestCastConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- cast: {a: integer}`, `steps.yaml:1:13: expected one of "string", "int", "float", "bool", "timestamp", got "integer"`},
		{`- cast: {a: flaot}`, `steps.yaml:1:13: expected one of "string", "int", "float", "bool", "timestamp", got "flaot" (did you mean "float"?)`},
		{`- cast: {}`, "steps.yaml:1:9: expected at least 1 entry, got 0"},
		{`- cast: [a]`, "steps.yaml:1:9: expected a mapping of field path to values among \"string\", \"int\", \"float\", \"bool\", \"timestamp\", got a list"},
	})
}
