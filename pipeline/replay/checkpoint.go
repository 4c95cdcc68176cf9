package replay

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/millrace-dev/millrace/pipeline/kafka"
)

// DefaultCheckpointDir is where checkpoints are kept, relative to the
// working directory.
const DefaultCheckpointDir = ".millrace/replays"

// checkpointVersion is the format of checkpoint files.
const checkpointVersion = 1

// Checkpoint is a replay's range and how far it got: the file
// <dir>/<pipeline>-<id>.json, rewritten atomically (write, then rename)
// every second and when the replay stops. Every record of a partition below
// its Next was processed and all of its outputs acknowledged.
type Checkpoint struct {
	Version  int    `json:"version"`
	ID       string `json:"id"`
	Pipeline string `json:"pipeline"`
	// Mode is ModeReplay or ModeRedrive.
	Mode string `json:"mode"`
	// Topic is the topic read: the pipeline's input, or its dead-letter
	// topic for a redrive.
	Topic string `json:"topic"`
	// From and To are the positions as given, for people.
	From string `json:"from"`
	To   string `json:"to"`
	// The filters and the output redirection, which a resume keeps.
	FromTime      *time.Time `json:"from_time,omitempty"`
	ToTime        *time.Time `json:"to_time,omitempty"`
	ErrorContains string     `json:"error_contains,omitempty"`
	Since         *time.Time `json:"since,omitempty"`
	ToTopic       string     `json:"to_topic,omitempty"`
	// DLQTopic is where the replay writes its dead letters, when not the
	// pipeline's; Rate and InFlight its pace: a resume keeps them.
	DLQTopic string  `json:"dlq_topic,omitempty"`
	Rate     float64 `json:"rate,omitempty"`
	InFlight int     `json:"in_flight,omitempty"`
	// Force is a redrive that redrives dead letters already redriven.
	Force bool `json:"force,omitempty"`
	// Redriven lists, per partition, the offsets of the dead letters this
	// redrive processed; a later redrive of the topic skips them.
	Redriven map[int32]offsetSet `json:"redriven,omitempty"`

	Partitions []CheckpointPartition `json:"partitions"`
	Complete   bool                  `json:"complete"`
	CreatedAt  time.Time             `json:"created_at"`
	UpdatedAt  time.Time             `json:"updated_at"`
}

// CheckpointPartition is one partition's range and position.
type CheckpointPartition struct {
	Partition int32 `json:"partition"`
	Start     int64 `json:"start"`
	End       int64 `json:"end"`
	Next      int64 `json:"next"`
}

// Replay modes.
const (
	ModeReplay  = "replay"
	ModeRedrive = "dlq-redrive"
)

// newID returns a replay id: the UTC start time and a random suffix, so
// that ids sort by time.
func newID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// CheckpointPath is where the checkpoint of a pipeline's replay id lives.
func CheckpointPath(dir, pipeline, id string) string {
	return filepath.Join(dir, pipeline+"-"+id+".json")
}

// ranges returns what is left to read: from Next to End per partition.
func (c *Checkpoint) ranges() []kafka.Range {
	rs := make([]kafka.Range, len(c.Partitions))
	for i, p := range c.Partitions {
		rs[i] = kafka.Range{Partition: p.Partition, Start: min(p.Next, p.End), End: p.End}
	}
	return rs
}

// update takes the positions of a progress report: each partition's
// contiguous settled prefix.
func (c *Checkpoint) update(progress []kafka.Progress, now time.Time) {
	for _, pr := range progress {
		for i := range c.Partitions {
			if c.Partitions[i].Partition == pr.Partition {
				c.Partitions[i].Next = max(c.Partitions[i].Next, pr.Next)
			}
		}
	}
	c.Complete = true
	for _, p := range c.Partitions {
		if p.Next < p.End {
			c.Complete = false
		}
	}
	c.UpdatedAt = now
}

// save writes the checkpoint atomically: a crash leaves the old file or
// the new one, never a torn one.
func (c *Checkpoint) save(dir string) (string, error) {
	// Owner only, like the embedded broker's data: a checkpoint names
	// topics, offsets and the replay's filter.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	path := CheckpointPath(dir, c.Pipeline, c.ID)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable where the platform allows
		d.Close()
	}
	return path, nil
}

// NoCheckpointError is a resume without a checkpoint to resume.
type NoCheckpointError struct {
	Pipeline, ID, Dir string
	Known             []string // ids of the pipeline's checkpoints
}

func (e *NoCheckpointError) Error() string {
	if e.ID == "" {
		return fmt.Sprintf("no replay checkpoint of pipeline %q in %s; start a replay first, or pass --checkpoint-dir", e.Pipeline, e.Dir)
	}
	msg := fmt.Sprintf("no checkpoint %q of pipeline %q in %s", e.ID, e.Pipeline, e.Dir)
	if len(e.Known) > 0 {
		msg += "; its checkpoints are: " + strings.Join(e.Known, ", ")
	}
	return msg
}

// loadCheckpoint reads the checkpoint id of pipeline, or its latest one
// (by creation time) when id is empty.
func loadCheckpoint(dir, pipeline, id string) (*Checkpoint, string, error) {
	all, err := listCheckpoints(dir, pipeline)
	if err != nil {
		return nil, "", err
	}
	var best *Checkpoint
	var known []string
	for _, c := range all {
		known = append(known, c.ID)
		if id != "" && c.ID == id {
			best = c
		}
		if id == "" && (best == nil || c.CreatedAt.After(best.CreatedAt)) {
			best = c
		}
	}
	if best == nil {
		return nil, "", &NoCheckpointError{Pipeline: pipeline, ID: id, Dir: dir, Known: known}
	}
	return best, CheckpointPath(dir, pipeline, best.ID), nil
}

// listCheckpoints reads the checkpoints of pipeline in dir.
func listCheckpoints(dir, pipeline string) ([]*Checkpoint, error) {
	paths, err := filepath.Glob(filepath.Join(dir, pipeline+"-*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Checkpoint
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
		var c Checkpoint
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", p, err)
		}
		// "a-b" matches the glob of pipeline "a" too: keep only ours.
		if c.Pipeline != pipeline || c.Version != checkpointVersion {
			continue
		}
		out = append(out, &c)
	}
	return out, nil
}
