package observe

import "time"

// ReplayStatus is a replay or redrive running next to the runner (in its
// working directory), as its checkpoint says.
type ReplayStatus struct {
	ID        string    `json:"id"`
	Pipeline  string    `json:"pipeline"`
	Mode      string    `json:"mode"`
	Topic     string    `json:"topic"`
	Done      int64     `json:"done"`
	Total     int64     `json:"total"`
	ToTopic   string    `json:"to_topic,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (o *Observer) runningReplays(now time.Time) []ReplayStatus {
	if o.opts.Replays == nil {
		return []ReplayStatus{}
	}
	rs := o.opts.Replays(now)
	if rs == nil {
		return []ReplayStatus{}
	}
	return rs
}
