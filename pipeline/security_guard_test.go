package pipeline_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every Kafka client Millrace makes takes the config's security: no client
// is made without it. This reads the program's own source (pipeline/ and
// cmd/, tests aside) and fails on
//   - a franz-go client made outside pipeline/kafka, or there without
//     clientOpts (seed brokers, client id and the Security's options);
//   - a Sarama config made outside watermillkafka's sarama.go;
//   - a consumer, producer or Sarama subscriber config without Security;
//   - a client, topic creation or Sarama publisher given a nil Security.
func TestEveryClientIsSecured(t *testing.T) {
	secured := map[string]bool{"BatchPublisherConfig": true, "ConcurrentSubscriberConfig": true, "SubscriberOptions": true}
	secArg := map[string]int{"kafka.NewClient": 2, "kafka.EnsureTopics": 3, "watermillkafka.NewPublisher": 2, "NewClient": 2, "EnsureTopics": 3}
	fset := token.NewFileSet()
	for _, dir := range []string{".", "../cmd"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "securitytest") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f, err := parser.ParseFile(fset, path, src, 0)
			if err != nil {
				return err
			}
			if strings.Contains(string(src), "kgo.NewClient(") && (filepath.Dir(path) != "kafka" || !strings.Contains(string(src), "clientOpts(")) {
				t.Errorf("%s makes a franz-go client without clientOpts: use kafka.NewClient", path)
			}
			if strings.Contains(string(src), "sarama.NewConfig()") && path != filepath.Join("kafka", "watermillkafka", "sarama.go") {
				t.Errorf("%s makes a Sarama config outside watermillkafka/sarama.go", path)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CompositeLit:
					if name := typeName(n.Type); secured[name] && !hasKey(n, "Security") {
						t.Errorf("%s: a %s without Security", fset.Position(n.Pos()), name)
					}
				case *ast.CallExpr:
					if i, ok := secArg[exprName(n.Fun)]; ok && len(n.Args) > i {
						if id, ok := n.Args[i].(*ast.Ident); ok && id.Name == "nil" {
							t.Errorf("%s: %s with a nil Security", fset.Position(n.Pos()), exprName(n.Fun))
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.Ident:
		return e.Name
	}
	return ""
}

func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
	case *ast.Ident:
		return e.Name
	}
	return ""
}

func hasKey(lit *ast.CompositeLit, key string) bool {
	for _, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == key {
				return true
			}
		}
	}
	return false
}
