package observe

// DecodeStatus is the chain's first step, before any transform: the
// record's value is read as a JSON object. Values that are not fail here
// (and go to the dead-letter topic), which is why the first transform can
// see fewer records than came in.
type DecodeStatus struct {
	In     float64 `json:"in"`
	Failed float64 `json:"failed"`
	Out    float64 `json:"out"`
}

// StopStatus is the record a stopped pipeline stopped on, and what to do.
type StopStatus struct {
	// Unfinished counts the record that stopped the pipeline: it went
	// through the steps but is not counted in (it was not finished, and
	// stays uncommitted).
	Unfinished float64 `json:"unfinished"`
	Step       string  `json:"step,omitempty"`
	Partition  string  `json:"partition,omitempty"`
	Offset     string  `json:"offset,omitempty"`
	// Next says what to do next.
	Next string `json:"next"`
}

// stopNext is what to do about a stopped pipeline.
const stopNext = "A record failed and the pipeline has no errors.dead_letter_topic to send it to, so it stopped " +
	"rather than lose it; the record stays uncommitted. Fix its cause (the transform or the record), or set " +
	"errors.dead_letter_topic, then restart the runner: it reads the record again."

// explainChain fills Decode and, for a stopped pipeline, Stop, so that the
// counts along the chain add up: records in (plus the one that stopped the
// pipeline) = decode in; decode out = the first step's in.
func (ps *PipelineStatus) explainChain(f families) {
	if ps.State == StateStopped {
		stop := &StopStatus{Unfinished: 1, Next: stopNext}
		for _, e := range ps.Errors {
			if e.Step != "stopped" {
				stop.Step, stop.Partition, stop.Offset = e.Step, e.Partition, e.Offset
				break // the most recent failure: the one it stopped on
			}
		}
		ps.Stop = stop
	}
	failed := f.sum(MetricFailures, "pipeline", ps.Name, "step", StepDecode)
	in := ps.Records.In
	if ps.Stop != nil {
		in += ps.Stop.Unfinished
	}
	ps.Decode = DecodeStatus{In: in, Failed: failed, Out: max(in-failed, 0)}
}
