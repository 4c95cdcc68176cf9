package replay

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/millrace-dev/millrace/pipeline/observe"
)

// runningWithin is how recent a checkpoint must be for its replay to count
// as running: a running replay rewrites it every second.
const runningWithin = 5 * time.Second

// Running lists the replays whose checkpoints in dir say they are running:
// not complete, and saved within the last few seconds. The runner's status
// page shows them. Unreadable files are left out.
func Running(dir string, now time.Time) []observe.ReplayStatus {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	out := []observe.ReplayStatus{}
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || now.Sub(st.ModTime()) > runningWithin {
			continue // most checkpoints are old: not read
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var c Checkpoint
		if json.Unmarshal(data, &c) != nil || c.Version != checkpointVersion || c.Complete || now.Sub(c.UpdatedAt) > runningWithin {
			continue
		}
		rs := observe.ReplayStatus{ID: c.ID, Pipeline: c.Pipeline, Mode: c.Mode, Topic: c.Topic, ToTopic: c.ToTopic, UpdatedAt: c.UpdatedAt}
		for _, part := range c.Partitions {
			rs.Total += part.End - part.Start
			rs.Done += min(part.Next, part.End) - part.Start
		}
		out = append(out, rs)
	}
	slices.SortFunc(out, func(a, b observe.ReplayStatus) int { return strings.Compare(a.ID, b.ID) })
	return out
}
