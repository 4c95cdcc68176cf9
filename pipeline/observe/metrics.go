package observe

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names, as exported on /metrics. docs/metrics.md describes each.
const (
	MetricRecordsIn       = "millrace_records_in_total"
	MetricRecordsOut      = "millrace_records_out_total"
	MetricFiltered        = "millrace_records_filtered_total"
	MetricDeadLettered    = "millrace_records_dead_lettered_total"
	MetricFailures        = "millrace_record_failures_total"
	MetricStepDuration    = "millrace_step_duration_seconds"
	MetricStepOutputs     = "millrace_step_outputs_total"
	MetricStepInputs      = "millrace_step_inputs_total"
	MetricLatency         = "millrace_end_to_end_latency_seconds"
	MetricInFlight        = "millrace_records_in_flight"
	MetricConsumerLag     = "millrace_consumer_lag"
	MetricPipelineReady   = "millrace_pipeline_ready"
	MetricStalled         = "millrace_partitions_stalled"
	MetricLagPollFailures = "millrace_lag_poll_failures_total"
	MetricRunnerInfo      = "millrace_runner_info"
	MetricPipelinePaused  = "millrace_pipeline_paused"
	MetricConfigReloads   = "millrace_config_reloads_total"
)

// Failure steps outside the transform chain, as the step label of
// millrace_record_failures_total (index -1).
const (
	StepDecode  = "decode"  // the value is not a JSON object
	StepOutput  = "output"  // an output route's condition failed
	StepPublish = "publish" // writing the outputs failed or timed out (retried)
	StepPanic   = "panic"   // a panic outside the chain
	// StepDeadLetter is a dead letter that could not be written; the record
	// is retried.
	StepDeadLetter = "dead_letter"
	// StepCrash is a record the runner died with input.max_crashes times
	// in a row: dead-lettered unprocessed.
	StepCrash = "crash"
)

// metricSet holds Millrace's own collectors.
type metricSet struct {
	in, filtered, dead, pollFailures *prometheus.CounterVec
	out, failures, stepOutputs       *prometheus.CounterVec
	stepInputs                       *prometheus.CounterVec
	stepDuration, latency            *prometheus.HistogramVec
	lag, ready, info                 *prometheus.GaugeVec
	stalled                          *prometheus.GaugeVec
	paused                           *prometheus.GaugeVec
	reloads                          *prometheus.CounterVec
}

// stepBuckets span a cheap field rename (microseconds) to a slow jq
// program or schema check (a second).
var stepBuckets = prometheus.ExponentialBuckets(0.000005, 4, 10)

// latencyBuckets span a record written a few milliseconds ago to one that
// waited an hour in the topic.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

func newMetricSet(reg prometheus.Registerer) *metricSet {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		reg.MustRegister(g)
		return g
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
		reg.MustRegister(h)
		return h
	}
	return &metricSet{
		in: counter(MetricRecordsIn,
			"Input records finished: written, filtered or dead-lettered, so their offsets may be committed. A retried or redelivered record counts once.", "pipeline"),
		out: counter(MetricRecordsOut,
			"Output records acknowledged by the brokers, per output topic.", "pipeline", "topic"),
		filtered: counter(MetricFiltered,
			"Input records the chain dropped: no output, no error.", "pipeline"),
		dead: counter(MetricDeadLettered,
			"Input records written to the dead-letter topic.", "pipeline"),
		failures: counter(MetricFailures,
			"Failed attempts at a record, by the failing step: a transform name, or decode, output, publish, dead_letter or panic (index -1).",
			"pipeline", "step", "index"),
		stepDuration: histogram(MetricStepDuration,
			"Time one transform step took on one record, for a sample of the records: one in 16, at random.", stepBuckets, "pipeline", "step", "index"),
		stepInputs: counter(MetricStepInputs,
			"Records a transform step was applied to (one its when: condition passed through unchanged included).",
			"pipeline", "step", "index"),
		stepOutputs: counter(MetricStepOutputs,
			"Records a transform step returned: fewer than it processed means it dropped some, more that it split some.",
			"pipeline", "step", "index"),
		latency: histogram(MetricLatency,
			"Time from an input record's Kafka timestamp to the acknowledgement of its outputs.", latencyBuckets, "pipeline"),
		lag: gauge(MetricConsumerLag,
			"Records of the input partition not yet committed by the pipeline's consumer group: end offset minus committed offset, as of the last successful poll.",
			"pipeline", "topic", "partition"),
		ready: gauge(MetricPipelineReady,
			"1 when the pipeline is ready (see /readyz), else 0.", "pipeline"),
		stalled: gauge(MetricStalled,
			"Input partitions stopped at a record that cannot be written (its dead letter was refused by the brokers); the record is tried again every 10s.", "pipeline"),
		pollFailures: counter(MetricLagPollFailures,
			"Polls of consumer lag and group state that failed (the brokers did not answer).", "pipeline"),
		paused: gauge(MetricPipelinePaused,
			"1 while the pipeline is paused (pipeline-runner pause, or errors.budget spent), else 0; /readyz says why.", "pipeline"),
		reloads: counter(MetricConfigReloads,
			"Reloads of the config (SIGHUP, run --watch) by result: ok, or failed (not valid, or a change a reload cannot make; nothing changed).", "result"),
		info: gauge(MetricRunnerInfo,
			"Always 1; the labels name the runner's version and the Go version it was built with.", "version", "go_version"),
	}
}

// inFlightDesc is millrace_records_in_flight, which inFlightCollector
// exports.
var inFlightDesc = prometheus.NewDesc(MetricInFlight, "Input records being processed now.", []string{"pipeline"}, nil)

// inFlightCollector exports each watched pipeline's records in flight, as
// its hooks count them (Pipeline.Begin and End), when /metrics is read:
// a gauge of its own would be a second value updated twice per record by
// every worker.
type inFlightCollector struct{ o *Observer }

func (inFlightCollector) Describe(ch chan<- *prometheus.Desc) { ch <- inFlightDesc }

func (c inFlightCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.o.pipelines() {
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(max(p.inFlight.Load(), 0)), p.label)
	}
}
