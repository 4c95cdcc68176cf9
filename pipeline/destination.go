package pipeline

import (
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/kafka"
)

// DestinationPublisher publishes each message to the topic in its
// kafka.MetaDestination metadata, for transports whose marshaler does not
// read it (the Kafka marshaler does). Messages without one go to the topic
// passed to Publish.
type DestinationPublisher struct {
	message.Publisher
}

// Publish groups messages by destination, keeping their order within a
// topic.
func (d DestinationPublisher) Publish(topic string, msgs ...*message.Message) error {
	var order []string
	byTopic := map[string][]*message.Message{}
	for _, m := range msgs {
		t := m.Metadata.Get(kafka.MetaDestination)
		if t == "" {
			t = topic
		}
		if _, seen := byTopic[t]; !seen {
			order = append(order, t)
		}
		byTopic[t] = append(byTopic[t], m)
	}
	for _, t := range order {
		if err := d.Publisher.Publish(t, byTopic[t]...); err != nil {
			return err
		}
	}
	return nil
}
