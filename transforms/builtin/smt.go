package builtin

// SMTMapping is a Markdown table from each of Kafka Connect's single message
// transforms (and its predicates) to the Millrace step that does the same
// job, for the transform catalogue. Its examples are written for records
// whose value is a JSON object, which is what Millrace pipelines read.
const SMTMapping = `| Kafka Connect SMT | Millrace | notes |
| --- | --- | --- |
| ` + "`InsertField`" + ` | ` + "`set`" + ` | ` + "`set: {source_topic: kafka.topic, partition: kafka.partition, offset: kafka.offset, ingested_at: now(), env: '\"prod\"'}`" + `: any field from an expression, static values as literals. |
| ` + "`ReplaceField`" + ` | ` + "`keep`" + `, ` + "`drop`" + `, ` + "`rename`" + ` | ` + "`include`" + ` is ` + "`keep: [a, b]`" + `, ` + "`exclude`" + ` is ` + "`drop: [c]`" + `, ` + "`renames`" + ` is ` + "`rename: {old: new}`" + `; dotted paths reach into nested objects. |
| ` + "`MaskField`" + ` | ` + "`mask`" + ` | ` + "`mask: [ssn]`" + ` or ` + "`mask: {card: {keep_last: 4}, email: {pattern: '^[^@]+', replacement: '***'}}`" + `; ` + "`hash`" + ` keeps values joinable without revealing them. |
| ` + "`ValueToKey`" + ` | ` + "`key`" + ` | ` + "`key: user_id`" + ` or ` + "`key: {expr: 'tenant + \":\" + user_id'}`" + `; the key is text, not a struct. |
| ` + "`ExtractField`" + ` | ` + "`extract`" + ` | ` + "`extract: payload`" + ` on the value; for the key, ` + "`key: {field: ...}`" + ` takes one field directly. |
| ` + "`HoistField`" + ` | ` + "`hoist`" + ` | ` + "`hoist: payload`" + `. |
| ` + "`Cast`" + ` | ` + "`cast`" + ` | ` + "`cast: {amount: float, id: string}`" + `; types are JSON's: string, int, float, bool, plus timestamp. |
| ` + "`Flatten`" + ` | ` + "`flatten`" + ` | ` + "`flatten: {separator: \"_\"}`" + `; lists stay as they are. ` + "`unflatten`" + ` is the inverse. |
| ` + "`TimestampConverter`" + ` | ` + "`timestamp`" + `, ` + "`cast`" + ` | ` + "`timestamp: {field: ts, from: unix_ms, to: rfc3339, timezone: Europe/Berlin}`" + `; ` + "`cast: {ts: timestamp}`" + ` for a quick RFC 3339. |
| ` + "`TimestampRouter`" + ` | ` + "`route`" + ` | ` + "`route: 'kafka.topic + \"-\" + kafka.timestamp.Format(\"20060102\")'`" + `. |
| ` + "`RegexRouter`" + ` | ` + "`route`" + ` | ` + "`route: '\"orders-\" + trimPrefix(kafka.topic, \"orders.\")'`" + `, or cases with regular expressions: ` + "`route: [{when: 'kafka.topic matches \"^orders[.]\"', topic: orders-all}]`" + `. Expressions have no regex replace with groups; string functions and cases cover the usual renames. |
| ` + "`Filter`" + ` with predicates | ` + "`filter`" + `, step ` + "`when`" + ` | ` + "`filter: 'amount > 0'`" + ` keeps matches (` + "`negate`" + ` is ` + "`!`" + `). Predicates become conditions: ` + "`TopicNameMatches`" + ` is ` + "`kafka.topic matches \"^orders\"`" + `, ` + "`HasHeaderKey`" + ` is ` + "`\"h\" in kafka.headers`" + `, ` + "`RecordIsTombstone`" + ` does not arise (a record without a JSON value fails decoding and goes to the dead-letter topic). Any step takes ` + "`when:`" + ` to apply only to matching records. |
| ` + "`InsertHeader`" + ` | ` + "`headers`" + ` | ` + "`headers: {set: {source: '\"billing\"'}}`" + `; values may be any expression. |
| ` + "`HeaderFrom`" + ` | ` + "`headers`" + ` | ` + "`headers: {from_fields: {tenant: customer.tenant}}`" + ` copies; add ` + "`drop: [customer.tenant]`" + ` to move. ` + "`to_fields`" + ` goes the other way. |
| ` + "`DropHeaders`" + ` | ` + "`headers`" + ` | ` + "`headers: {remove: [debug, \"x-trace-*\"]}`" + `. |
| ` + "`SetSchemaMetadata`" + ` | none | Not applicable: Millrace records are schemaless JSON, so there is no schema name or version to set. To check records against a schema, use ` + "`validate`" + ` (JSON Schema). |
`
