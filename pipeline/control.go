package pipeline

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/millrace-dev/millrace/pipeline/admin"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/observe"
)

// controls are the running pipelines that can be paused, by name; the
// admin server's Controller.
type controls struct {
	mu    sync.Mutex
	known map[string]bool // every pipeline of the run
	live  map[string]*control
}

// control pauses and resumes one running pipeline.
type control struct {
	name   string
	sub    *kafka.ConcurrentSubscriber
	op     *observe.Pipeline
	log    *slog.Logger
	mu     sync.Mutex
	paused bool
	// resumed is called on Resume: the error budget starts counting anew.
	resumed func()
}

// pause stops the pipeline fetching (see kafka.ConcurrentSubscriber.Pause)
// and says why; a pipeline already paused stays as it is.
func (c *control) pause(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		return
	}
	c.paused = true
	c.sub.Pause()
	c.op.Paused(reason)
	c.log.Warn("pipeline paused: it fetches nothing more, keeps its partitions, and finishes and commits what is in flight; `pipeline-runner resume` starts it again",
		"pipeline", c.name, "reason", reason, "group_generation", c.sub.GroupGeneration())
}

// resume lets a paused pipeline fetch again.
func (c *control) resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.paused {
		return
	}
	c.paused = false
	if c.resumed != nil {
		c.resumed()
	}
	c.sub.Resume()
	c.op.Resumed()
	c.log.Info("pipeline resumed", "pipeline", c.name, "group_generation", c.sub.GroupGeneration())
}

func (cs *controls) add(c *control) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.live[c.name] = c
}

// remove forgets c once its pipeline has stopped.
func (cs *controls) remove(c *control) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.live[c.name] == c {
		delete(cs.live, c.name)
	}
}

func (cs *controls) get(name string) (*control, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c := cs.live[name]; c != nil {
		return c, nil
	}
	if cs.known[name] {
		return nil, fmt.Errorf("pipeline %s: %w: it is not consuming (starting, stopped, or on the watermill-kafka adapter)", name, admin.ErrNotRunning)
	}
	return nil, fmt.Errorf("%w %q in this runner", admin.ErrNoPipeline, name)
}

// Pause pauses the named pipeline by hand (admin.Controller).
func (cs *controls) Pause(name string) error {
	c, err := cs.get(name)
	if err != nil {
		return err
	}
	c.pause("paused by hand (pipeline-runner pause)")
	return nil
}

// Resume resumes the named pipeline (admin.Controller).
func (cs *controls) Resume(name string) error {
	c, err := cs.get(name)
	if err != nil {
		return err
	}
	c.resume()
	return nil
}
