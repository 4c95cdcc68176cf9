package admin

import (
	"errors"
	"net/http"
)

// Controller pauses and resumes the runner's pipelines by name, for
//
//	POST /api/pipelines/NAME/pause   stop fetching, keep the partitions (pipeline-runner pause)
//	POST /api/pipelines/NAME/resume  fetch again from where it stopped
//
// An error wrapping ErrNoPipeline answers 404, one wrapping ErrNotRunning
// 409.
type Controller interface {
	Pause(name string) error
	Resume(name string) error
}

var (
	// ErrNoPipeline: the runner runs no pipeline of that name.
	ErrNoPipeline = errors.New("no such pipeline")
	// ErrNotRunning: the pipeline is not consuming (starting, stopped, or
	// on an adapter that cannot pause).
	ErrNotRunning = errors.New("the pipeline cannot be paused or resumed now")
)

// withControl adds the pipeline control endpoints to next. They change
// state, so besides the guard's Host check and credentials they refuse
// requests a browser sends from another origin (Go's
// CrossOriginProtection): a page elsewhere cannot pause a pipeline through
// a visitor's browser on the same machine.
func withControl(next http.Handler, c Controller) http.Handler {
	if c == nil {
		return next
	}
	mux := http.NewServeMux()
	mux.Handle("/", next)
	act := func(do func(string) error, done string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			name := r.PathValue("name")
			err := do(name)
			switch {
			case errors.Is(err, ErrNoPipeline):
				writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			case err != nil:
				writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
			default:
				writeJSON(w, http.StatusOK, map[string]string{"pipeline": name, "state": done})
			}
		}
	}
	cop := http.NewCrossOriginProtection()
	mux.Handle("POST /api/pipelines/{name}/pause", cop.Handler(act(c.Pause, "paused")))
	mux.Handle("POST /api/pipelines/{name}/resume", cop.Handler(act(c.Resume, "running")))
	return mux
}
