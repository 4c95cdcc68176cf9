// Package kafka is Millrace's Kafka adapter on franz-go: the consumer that
// hands records to the engine, the batching producer that writes their
// outputs, the one conversion between Kafka records and engine records,
// admin helpers and the embedded broker.
//
// The consumer, ConcurrentSubscriber, has two modes that share one loop,
// one ordering window per partition and one rule: only the contiguous
// settled prefix of a partition counts. A window orders records in lanes
// (a key, or the partition): with Pipelined, a lane's next record runs once
// the process call of the one before has returned (its outputs are with the
// producer, in order), and a record settled as not done rewinds its lane
// (it and the later ones handed out run again, in offset order). Group mode (`run`) reads through a
// consumer group and commits that prefix; bounded-range mode (`replay`)
// reads assigned partitions over ranges fixed in advance, commits nothing
// and reports the prefix as Progress. Either hands records out as
// Watermill messages (Subscribe) or to workers that call the engine
// (Consume).
//
// The files, one job each: consumer.go (the config and the client),
// loop.go (the loop that owns the windows: records in, hand-outs,
// settlements, shutdown), window.go (one partition's ordering window and
// settled prefix), subscribe.go and consume.go (the two hand-outs),
// rebalance.go (group mode's assignments and revocations), commit.go
// (group mode's commits), crash.go (group mode's poison-pill detection:
// a count of starts at the committed offset in the commit metadata),
// stall.go (a partition stalled on a record that cannot be written: its
// dead letter refused), rejected.go (produce errors no retry cures),
// ranges.go (bounded-range mode's ranges and
// progress), producer.go (BatchPublisher), record.go (the record codec),
// admin.go (clients for the CLI, topic creation, topics' size limits), embedded.go (the
// in-process broker, kfake), security.go (TLS and SASL of every client:
// Security, built once from kafka.tls and kafka.sasl), securityerr.go
// (failures of TLS and SASL, classified and reported once).
//
// Watermill's Sarama adapter (kafka.adapter: watermill-kafka) is package
// watermillkafka, apart, so that this one does not link Sarama.
package kafka
