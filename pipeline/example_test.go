package pipeline_test

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
)

// A pipeline from YAML as a handler of one's own Watermill router, with
// one's own middleware, over an in-memory pub/sub.
func ExampleHandlerFunc() {
	const yaml = `version: 1
pipelines:
  - name: enrich
    input: {topic: orders}
    transforms:
      - filter: 'amount > 0'
      - set: {total_cents: 'int(amount * 100)'}
      - rename: {user: user_id}
    output: {topic: orders-enriched}
    errors: {dead_letter_topic: orders-dlq}
`
	cfg, err := config.Parse("pipelines.yaml", []byte(yaml), config.Options{})
	if err != nil {
		panic(err)
	}
	handler, closeParts, err := pipeline.HandlerFunc(cfg, "enrich")
	if err != nil {
		panic(err)
	}
	defer closeParts()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	outputs, _ := bus.Subscribe(ctx, "orders-enriched")
	deadLetters, _ := bus.Subscribe(ctx, "orders-dlq")
	router, _ := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	router.AddMiddleware(middleware.CorrelationID)
	router.AddHandler("enrich", "orders", bus, "orders-enriched", engine.DestinationPublisher{Publisher: bus}, handler)
	go func() { _ = router.Run(ctx) }()
	<-router.Running()

	for _, v := range []string{`{"amount":2.5,"user":"ada"}`, `{"amount":"ten"}`} {
		_ = bus.Publish("orders", message.NewMessage(watermill.NewUUID(), []byte(v)))
	}
	out := <-outputs
	fmt.Println("output:", string(out.Payload))
	out.Ack()
	dead := <-deadLetters
	fmt.Println("dead letter:", string(dead.Payload), "failed in", dead.Metadata.Get(engine.HeaderStep))
	dead.Ack()
	// Output:
	// output: {"amount":2.5,"total_cents":250,"user_id":"ada"}
	// dead letter: {"amount":"ten"} failed in filter
}
