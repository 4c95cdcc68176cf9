package kafka

// Pause stops the subscriber fetching and handing out records while it
// stays in its consumer group with its partitions (franz-go's
// PauseFetchTopics: no rebalance, the group's generation stays). What is
// in flight finishes and is committed as usual; records already fetched
// wait in memory, and Resume hands them out first, so that nothing is
// lost or processed twice. A partition assigned while paused waits too.
// Pause returns once every subscription has stopped handing out records.
func (s *ConcurrentSubscriber) Pause() { s.onLoops(func(st *stream) { st.setPaused(true) }) }

// Resume undoes Pause: the subscriptions hand out the records they hold and
// fetch again from where they stopped.
func (s *ConcurrentSubscriber) Resume() { s.onLoops(func(st *stream) { st.setPaused(false) }) }

// InFlight is the number of records handed out and not yet settled, over
// every subscription; a paused subscriber has finished what it was doing
// once it is 0.
func (s *ConcurrentSubscriber) InFlight() int {
	n := 0
	s.onLoops(func(st *stream) { n += st.inflight() })
	return n
}

// onLoops runs f on the loop goroutine of every subscription that is still
// running, one after the other, and returns when they have.
func (s *ConcurrentSubscriber) onLoops(f func(*stream)) {
	s.mu.Lock()
	subs := append([]*stream(nil), s.subs...)
	s.mu.Unlock()
	for _, st := range subs {
		ran := make(chan struct{})
		select {
		case st.calls <- func() { f(st); close(ran) }:
			<-ran
		case <-st.done:
		}
	}
}

// setPaused pauses or resumes the stream (on its loop goroutine). A stream
// that is stopping only finishes what is in flight, whichever it is.
func (s *stream) setPaused(paused bool) {
	if s.paused == paused || s.stopping || s.ranges != nil {
		return
	}
	s.paused = paused
	if paused {
		s.cl.PauseFetchTopics(s.topic)
		for _, w := range s.windows {
			w.finish() // no record beyond those handed out
		}
		return
	}
	for _, w := range s.windows {
		w.unhold()
	}
	s.cl.ResumeFetchTopics(s.topic)
}

// GroupGeneration is the consumer group generation the subscriber's first
// subscription is in, -1 while it has not joined or in bounded-range mode.
// A rebalance changes it; a pause does not.
func (s *ConcurrentSubscriber) GroupGeneration() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) == 0 || s.cfg.Group == "" {
		return -1
	}
	_, gen := s.subs[0].cl.GroupMetadata()
	return gen
}
