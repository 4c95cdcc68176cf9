package builtin

import (
	"context"
	"fmt"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

var routeCase = spec.Object("A condition and the topic it selects.",
	&spec.Field{Name: "when", Type: spec.Expr(""), Required: true, Doc: "Condition on the record.", Examples: []any{`'country == "DE"'`}},
	&spec.Field{Name: "topic", Type: spec.String(""), Required: true, Doc: "Topic name.", Examples: []any{"orders-de"}},
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "route",
		Summary: "Choose the output topic from the record's content.",
		Description: "The topic is computed by an expression, or chosen by the first of a list of " +
			"cases whose `when` holds:\n\n" +
			"- `route: 'EXPR'` or `route: {topic: 'EXPR'}`: the expression yields the topic name, " +
			"for example `'\"orders-\" + lower(country)'`.\n" +
			"- `route: [{when: 'EXPR', topic: NAME}, ...]` or `route: {cases: [...], default: NAME}`: " +
			"the first matching case wins; `default` applies when none does.\n\n" +
			"A topic chosen here sets the record's destination and overrides the pipeline's " +
			"`output.routes` and `output.topic` for that record. When nothing is chosen (no case " +
			"matches and there is no `default`, or the expression yields `null` or `\"\"`), the " +
			"destination is left as it was, so the output routes decide. A computed name must be a " +
			"valid Kafka topic name (letters, digits, `.`, `_`, `-`; at most 249 characters), else " +
			"the record fails; the names in cases are checked when the config is loaded. A computed " +
			"name must also be one the pipeline allows (`output.allowed_topics`; by default the " +
			"topics its config names), and not its own input topic, else the record goes to the " +
			"dead-letter topic: data cannot create topics. The topics must exist or be " +
			"auto-created by the brokers. This covers Kafka Connect's " +
			"`TimestampRouter` and `RegexRouter` (with an expression over `kafka.topic` and " +
			"`kafka.timestamp`).",
		Config: spec.OneOf("An expression, a list of cases, or an options object.",
			spec.Expr("Expression that yields the topic name."),
			spec.List(routeCase, 1, ""),
			spec.Object("",
				&spec.Field{Name: "topic", Type: spec.Expr(""), Doc: "Expression that yields the topic name."},
				&spec.Field{Name: "cases", Type: spec.List(routeCase, 1, ""), Doc: "Conditions tried in order; the first that holds picks the topic."},
				&spec.Field{Name: "default", Type: spec.String(""), Doc: "Topic when no case matches or the expression yields nothing."},
			),
		),
		Examples: []transforms.Example{
			{Title: "Topic from a field", Config: `'"orders-" + lower(country)'`, Input: `{"country":"DE"}`,
				Output: []string{`{"country":"DE"}`}, Topic: "orders-de"},
			{Title: "First matching case", Config: `[{when: 'amount >= 1000', topic: orders-large}, {when: 'amount > 0', topic: orders}]`,
				Input: `{"amount":5000}`, Output: []string{`{"amount":5000}`}, Topic: "orders-large"},
			{Title: "Default when no case matches", Config: `{cases: [{when: 'kind == "refund"', topic: refunds}], default: other}`,
				Input: `{"kind":"sale"}`, Output: []string{`{"kind":"sale"}`}, Topic: "other"},
			{Title: "An invalid computed name fails", Config: `'"orders/" + country'`, Input: `{"country":"DE"}`,
				Error: `the topic it computed (9 characters) is not a valid topic name`},
		},
	}, newRoute)
}

type routeRule struct {
	when  transforms.Program
	topic string
}

type route struct {
	topic transforms.Program
	cases []routeRule
	def   string
}

func newRoute(b *transforms.Build) (transforms.Transform, error) {
	c := b.Config
	var rt route
	var errs spec.Errors
	var cases *spec.Value
	switch c.Kind {
	case spec.KindList:
		cases = c
	case spec.KindMap:
		topic := c.Get("topic")
		cases = c.Get("cases")
		switch {
		case topic == nil && cases == nil:
			return nil, c.Errorf("route needs topic or cases").WithHint("topic: '<expression>' or cases: [{when: ..., topic: ...}]")
		case topic != nil && cases != nil:
			return nil, c.Errorf("route takes topic or cases, not both").WithHint("put the expression's topic in a case, or the cases into the expression")
		}
		if topic != nil {
			p, err := b.Expr(topic)
			if err != nil {
				return nil, err
			}
			rt.topic = p
		}
		if d := c.Get("default"); d != nil {
			if err := checkTopicValue(d); err != nil {
				errs.Add(d.Pos, err)
			}
			rt.def = d.Text
		}
	default:
		p, err := b.Expr(c)
		if err != nil {
			return nil, err
		}
		rt.topic = p
	}
	if cases != nil {
		for _, it := range cases.Items {
			when, topic := it.Get("when"), it.Get("topic")
			p, err := b.Bool(when)
			if err != nil {
				errs.Add(when.Pos, err)
			}
			if err := checkTopicValue(topic); err != nil {
				errs.Add(topic.Pos, err)
			}
			rt.cases = append(rt.cases, routeRule{when: p, topic: topic.Text})
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &rt, nil
}

// TopicNames are the topics of the cases and the default: the names the
// config gives (transforms.TopicNamer).
func (rt *route) TopicNames() []string {
	var names []string
	for _, c := range rt.cases {
		names = append(names, c.topic)
	}
	if rt.def != "" {
		names = append(names, rt.def)
	}
	return names
}

// checkTopicValue checks a literal topic name in the config.
func checkTopicValue(v *spec.Value) error {
	if v.Failed {
		return spec.ErrReported
	}
	if err := checkTopic(v.Text); err != nil {
		e := v.Errorf("%v", err)
		if v.Secret {
			e.Msg = "invalid topic name from the environment; its text is not shown"
		}
		return e.WithHint("a topic here is a literal name; for a computed one use topic: '<expression>'")
	}
	return nil
}

// checkTopic applies Kafka's rules for topic names.
func checkTopic(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 249 {
		return fmt.Errorf("invalid topic name %q", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("invalid topic name %q: only letters, digits, '.', '_' and '-' are allowed", name)
		}
	}
	return nil
}

func (rt *route) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	topic, err := rt.choose(r)
	if err != nil {
		return nil, err
	}
	if topic != "" {
		r.Topic = topic
	}
	return r.One(), nil
}

func (rt *route) choose(r *transforms.Record) (string, error) {
	if rt.topic != nil {
		v, err := rt.topic.Eval(r)
		if err != nil {
			return "", err
		}
		switch t := v.(type) {
		case nil:
		case string:
			if t != "" {
				if checkTopic(t) != nil {
					// Not quoted: the name is made of the record's data.
					return "", fmt.Errorf("expression %q: the topic it computed (%d characters) is not a valid topic name (1 to 249 letters, digits, '.', '_' and '-', but not '.' or '..')", rt.topic.Source(), len(t))
				}
				return t, nil
			}
		default:
			return "", fmt.Errorf("expression %q: a topic must be a string, got %s", rt.topic.Source(), kindOf(v))
		}
		return rt.def, nil
	}
	for _, c := range rt.cases {
		ok, err := c.when.EvalBool(r)
		if err != nil {
			return "", err
		}
		if ok {
			return c.topic, nil
		}
	}
	return rt.def, nil
}

func (rt *route) TopLevelFields() (transforms.Fields, bool) {
	ps := []transforms.Program{rt.topic}
	for _, c := range rt.cases {
		ps = append(ps, c.when)
	}
	return programFields(ps...)
}
