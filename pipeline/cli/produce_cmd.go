package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

type produceOpts struct {
	topic    string
	key      string
	keyField string
	headers  []string
	timeout  time.Duration
}

func newProduceCmd(g *globals) *cobra.Command {
	var o produceOpts
	cmd := &cobra.Command{
		Use:   "produce --topic T [--key K | --key-field F] [--header k=v]... [VALUE...]",
		Short: "Write records to a topic and wait for the broker to acknowledge each",
		Long: "produce writes each VALUE argument as one record, or, without arguments, each line of\n" +
			"standard input (NDJSON). It waits for every acknowledgement, prints a summary to\n" +
			"stderr and exits 1 if any record was not acknowledged.",
		Example: "  pipeline-runner produce --topic orders --key u1 '{\"amount\": 3}'\n" +
			"  pipeline-runner produce --topic orders --key-field user < events.ndjson",
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.topic == "" {
				return usageErr("--topic is required")
			}
			if o.key != "" && o.keyField != "" {
				return usageErr("--key and --key-field exclude each other")
			}
			headers, err := parseHeaders(o.headers)
			if err != nil {
				return err
			}
			k, err := g.clientKafka()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cl, sec, closeClient, err := g.client(ctx, k, kgo.DefaultProduceTopic(o.topic), kgo.AllowAutoTopicCreation(), kgo.RecordDeliveryTimeout(o.timeout))
			if err != nil {
				return err
			}
			defer closeClient()
			var src io.Reader = cmd.InOrStdin()
			if len(args) > 0 {
				src = strings.NewReader(strings.Join(args, "\n"))
			}
			sum, err := produceLines(ctx, cl, src, o, headers)
			fmt.Fprintln(cmd.ErrOrStderr(), sum.String(o.topic))
			if err != nil {
				return err
			}
			if sum.failed > 0 {
				return fmt.Errorf("%d record(s) not acknowledged; first error: %w", sum.failed, sec.Explain(sum.firstErr))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.topic, "topic", "", "topic to write (required)")
	f.StringVar(&o.key, "key", "", "key for every record")
	f.StringVar(&o.keyField, "key-field", "", "take each record's key from this top-level JSON field")
	f.StringArrayVar(&o.headers, "header", nil, "header k=v for every record (repeatable)")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up on a record not acknowledged within this time")
	return cmd
}

func parseHeaders(hs []string) ([]kgo.RecordHeader, error) {
	var out []kgo.RecordHeader
	for _, h := range hs {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return nil, usageErr("--header %q: use key=value", h)
		}
		out = append(out, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return out, nil
}

type produceSummary struct {
	mu         sync.Mutex
	records    int
	bytes      int
	failed     int
	firstErr   error
	partitions map[int32]int
}

func (s *produceSummary) String(topic string) string {
	parts := make([]int, 0, len(s.partitions))
	for p := range s.partitions {
		parts = append(parts, int(p))
	}
	sort.Ints(parts)
	return fmt.Sprintf("produced %d record(s), %d bytes to %s, partitions %v; %d failed", s.records, s.bytes, topic, parts, s.failed)
}

// produceLines sends every non-empty line and waits for all acknowledgements.
func produceLines(ctx context.Context, cl *kgo.Client, src io.Reader, o produceOpts, headers []kgo.RecordHeader) (*produceSummary, error) {
	sum := &produceSummary{partitions: map[int32]int{}}
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var wg sync.WaitGroup
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if len(strings.TrimSpace(string(text))) == 0 {
			continue
		}
		rec := &kgo.Record{Value: append([]byte(nil), text...), Headers: headers}
		if o.key != "" {
			rec.Key = []byte(o.key)
		} else if o.keyField != "" {
			k, err := keyFromField(rec.Value, o.keyField)
			if err != nil {
				slog.Warn("record written without a key", "line", line, "error", err.Error())
			}
			rec.Key = k
		}
		wg.Add(1)
		cl.Produce(ctx, rec, func(r *kgo.Record, err error) {
			defer wg.Done()
			sum.mu.Lock()
			defer sum.mu.Unlock()
			if err != nil {
				sum.failed++
				if sum.firstErr == nil {
					sum.firstErr = err
				}
				return
			}
			sum.records++
			sum.bytes += len(r.Value)
			sum.partitions[r.Partition]++
		})
	}
	wg.Wait()
	if err := sc.Err(); err != nil {
		return sum, fmt.Errorf("read input: %w", err)
	}
	return sum, nil
}

// keyFromField reads a top-level string or number field of a JSON object.
func keyFromField(value []byte, field string) ([]byte, error) {
	if !json.Valid(value) {
		return nil, fmt.Errorf("the line is not JSON, so it has no field %q for --key-field", field)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(value, &obj); err != nil {
		return nil, fmt.Errorf("the line is JSON but not an object, so it has no field %q for --key-field", field)
	}
	raw, ok := obj[field]
	if !ok {
		return nil, fmt.Errorf("the line has no field %q for --key-field", field)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []byte(s), nil
	}
	return []byte(strings.TrimSpace(string(raw))), nil
}
