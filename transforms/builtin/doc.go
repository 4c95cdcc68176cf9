// Package builtin holds Millrace's built-in transforms, one file each with
// its spec: filter, set, rename, drop, keep, mask, hash, cast, flatten,
// unflatten, extract, hoist, split, route, key, headers, timestamp, jq,
// validate and dedupe. Importing it registers them in transforms.Default
// through the public API, as any custom transform registers:
//
//	import _ "github.com/millrace-dev/millrace/transforms/builtin"
//
// pipeline/config imports it, so every program that loads a config has
// them; a custom transform that imports only package transforms does not
// pull them, nor gojq and the JSON Schema validator they use, in. The
// built-ins that take expressions compile them with the chain's
// transforms.ExprCompiler (Build.Expr, Build.Bool): they do not import the
// expression language either.
package builtin

//go:generate go run ../../internal/docgen -dir ../../docs
