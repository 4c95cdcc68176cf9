// Package kafka is Millrace's Kafka adapter on franz-go: the consumer that
// hands records to the engine, the batching producer that writes their
// outputs, the one conversion between Kafka records and engine records,
// admin helpers and the embedded broker.
//
// The files, one job each:
//
//   - consumer.go: ConcurrentSubscriber, its config and its client;
//   - loop.go: the loop that owns the partitions' windows: polled records
//     in, records handed out, settlements in, shutdown;
//   - window.go: one partition's ordering window and its contiguous
//     settled prefix;
//   - subscribe.go and consume.go: the two ways records are handed out,
//     as Watermill messages (Subscribe) or to workers calling the engine
//     (Consume);
//   - rebalance.go: partitions assigned, revoked and lost in a consumer
//     group;
//   - commit.go: committing the settled prefix;
//   - producer.go: BatchPublisher, the asynchronous batching producer;
//   - record.go: the record codec, kgo.Record to engine.Record and back;
//   - admin.go: clients for the CLI, topic creation;
//   - embedded.go: the in-process broker (kfake).
//
// Watermill's Sarama adapter (kafka.adapter: watermill-kafka) is package
// watermillkafka, apart, so that this one does not link Sarama.
package kafka
