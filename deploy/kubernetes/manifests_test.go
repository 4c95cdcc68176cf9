package kubernetes_test

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/admin"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/observe"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// scaledObject is the part of KEDA's ScaledObject (keda.sh/v1alpha1) the
// manifest uses; decoding is strict, so a field KEDA does not have, or one
// misspelt, fails the test.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			Name string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount"`
		MaxReplicaCount *int32 `json:"maxReplicaCount"`
		PollingInterval *int32 `json:"pollingInterval"`
		CooldownPeriod  *int32 `json:"cooldownPeriod"`
		Triggers        []struct {
			Type              string            `json:"type"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
			} `json:"authenticationRef"`
		} `json:"triggers"`
	} `json:"spec"`
}

// triggerAuthentication is the part of KEDA's TriggerAuthentication the
// manifest uses.
type triggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}

// manifests are the documents of every YAML file here, decoded strictly
// into their API types.
type manifests struct {
	cm      corev1.ConfigMap
	secret  corev1.Secret
	deploy  appsv1.Deployment
	svc     corev1.Service
	pdb     policyv1.PodDisruptionBudget
	scaled  scaledObject
	trigger triggerAuthentication
}

func load(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{}
	byKind := map[string]any{
		"v1/ConfigMap": &m.cm, "v1/Secret": &m.secret, "apps/v1/Deployment": &m.deploy, "v1/Service": &m.svc,
		"policy/v1/PodDisruptionBudget": &m.pdb, "keda.sh/v1alpha1/ScaledObject": &m.scaled,
		"keda.sh/v1alpha1/TriggerAuthentication": &m.trigger,
	}
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s document %d: %v", f, i+1, err)
			}
			kind := tm.APIVersion + "/" + tm.Kind
			into, ok := byKind[kind]
			if !ok || seen[kind] {
				t.Fatalf("%s document %d: %s unexpected (or twice)", f, i+1, kind)
			}
			seen[kind] = true
			if err := yaml.UnmarshalStrict(doc, into); err != nil {
				t.Fatalf("%s document %d (%s): %v", f, i+1, kind, err)
			}
		}
	}
	for kind := range byKind {
		if !seen[kind] {
			t.Errorf("no %s among the manifests", kind)
		}
	}
	return m
}

// runnerConfig is the ConfigMap's pipelines.yaml as the runner loads it,
// with the environment the Deployment gives it (the Secret).
func (m *manifests) runnerConfig(t *testing.T) *config.Config {
	t.Helper()
	text, ok := m.cm.Data["pipelines.yaml"]
	if !ok {
		t.Fatalf("ConfigMap %s has no pipelines.yaml", m.cm.Name)
	}
	env := func(name string) (string, bool) {
		v, ok := m.secret.StringData[name]
		return v, ok
	}
	cfg, err := config.Parse("configmap.yaml:pipelines.yaml", []byte(text), config.Options{LookupEnv: env})
	if err != nil {
		t.Fatalf("the ConfigMap's pipelines.yaml does not load with the Secret's variables:\n%v", err)
	}
	return cfg
}

// The manifests are valid Kubernetes (and KEDA) objects, and they fit what
// the runner reads and serves: the config file where the container reads
// it, loading with the Secret's variables; probes, scrape annotations and
// the Service on the admin server's port and paths; a grace period longer
// than the shutdown timeout; selectors that select the pods; KEDA scaling
// the Deployment on the pipelines' groups, up to the partitions.
func TestManifests(t *testing.T) {
	m := load(t)
	cfg := m.runnerConfig(t)
	pod := m.deploy.Spec.Template
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want the runner alone", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]

	// The config file.
	if len(c.Args) != 3 || c.Args[0] != "run" || c.Args[1] != "-c" {
		t.Fatalf("args %q, want run -c FILE", c.Args)
	}
	dir, file := path.Split(c.Args[2])
	mount := slices.IndexFunc(c.VolumeMounts, func(v corev1.VolumeMount) bool { return path.Clean(v.MountPath) == path.Clean(dir) })
	if mount < 0 {
		t.Fatalf("nothing mounted at %s, where the runner reads %s", dir, file)
	}
	vol := slices.IndexFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == c.VolumeMounts[mount].Name })
	if vol < 0 || pod.Spec.Volumes[vol].ConfigMap == nil || pod.Spec.Volumes[vol].ConfigMap.Name != m.cm.Name {
		t.Fatalf("the volume at %s is not ConfigMap %s", dir, m.cm.Name)
	}
	if _, ok := m.cm.Data[file]; !ok {
		t.Fatalf("ConfigMap %s has no key %s, the file the runner reads", m.cm.Name, file)
	}
	if !slices.ContainsFunc(c.EnvFrom, func(e corev1.EnvFromSource) bool { return e.SecretRef != nil && e.SecretRef.Name == m.secret.Name }) {
		t.Errorf("the container does not take its environment from Secret %s", m.secret.Name)
	}

	// The admin server: port, probes, scraping.
	_, portText, err := net.SplitHostPort(cfg.Admin.Address)
	if err != nil {
		t.Fatalf("admin.address %q: %v", cfg.Admin.Address, err)
	}
	port, _ := strconv.Atoi(portText)
	if host, _, _ := net.SplitHostPort(cfg.Admin.Address); host != "0.0.0.0" && host != "" {
		t.Errorf("admin.address %s: the probes and Prometheus reach the pod's IP, not %s", cfg.Admin.Address, host)
	}
	containerPort := func(p intstr.IntOrString) int {
		if p.Type == intstr.Int {
			return p.IntValue()
		}
		for _, cp := range c.Ports {
			if cp.Name == p.StrVal {
				return int(cp.ContainerPort)
			}
		}
		t.Fatalf("no container port named %s", p.StrVal)
		return 0
	}
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return int(p.ContainerPort) == port }) {
		t.Errorf("no container port %d (admin.address)", port)
	}
	srv := httptest.NewServer(admin.Handler(observe.New(observe.Options{ClientID: cfg.Kafka.ClientID, PollInterval: time.Second, Logger: slog.New(slog.DiscardHandler)}), false))
	defer srv.Close()
	served := func(what, p string) {
		t.Helper()
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s: the admin server does not serve GET %s (%s)", what, p, resp.Status)
		}
	}
	for _, pr := range []struct {
		name, path string
		probe      *corev1.Probe
	}{
		{"liveness", "/healthz", c.LivenessProbe},
		{"readiness", "/readyz", c.ReadinessProbe},
		{"startup", "/healthz", c.StartupProbe},
	} {
		if pr.probe == nil || pr.probe.HTTPGet == nil {
			t.Errorf("no %s probe by HTTP GET", pr.name)
			continue
		}
		if g := pr.probe.HTTPGet; g.Path != pr.path || containerPort(g.Port) != port {
			t.Errorf("%s probe GET %s on port %d; want %s on %d", pr.name, g.Path, containerPort(g.Port), pr.path, port)
		}
		served(pr.name+" probe", pr.probe.HTTPGet.Path)
	}
	for what, ann := range map[string]map[string]string{"pod": pod.Annotations, "Service": m.svc.Annotations} {
		if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != portText {
			t.Errorf("%s scrape annotations %v: want scrape true on port %d", what, ann, port)
		}
		served(what+" scrape annotation", ann["prometheus.io/path"])
	}
	if len(m.svc.Spec.Ports) != 1 || containerPort(m.svc.Spec.Ports[0].TargetPort) != port {
		t.Errorf("Service ports %+v: want the admin port %d", m.svc.Spec.Ports, port)
	}
	if !slices.Contains(cfg.Admin.AllowedHosts, m.svc.Name) {
		t.Errorf("admin.allowed_hosts %v lacks the Service's name %s: requests through it would be refused", cfg.Admin.AllowedHosts, m.svc.Name)
	}

	// The shutdown: the runner waits runner.shutdown_timeout for what is
	// in flight, and 2 s more for the producer, before it exits.
	grace := m.deploy.Spec.Template.Spec.TerminationGracePeriodSeconds
	if least := cfg.Runner.ShutdownTimeout + 5*time.Second; grace == nil || time.Duration(*grace)*time.Second < least {
		t.Errorf("terminationGracePeriodSeconds: want at least %s (runner.shutdown_timeout %s)", least, cfg.Runner.ShutdownTimeout)
	}
	req, lim := c.Resources.Requests, c.Resources.Limits
	if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().Cmp(*req.Memory()) < 0 {
		t.Errorf("resources %+v: want CPU and memory requests, and a memory limit at least the request", c.Resources)
	}

	// Selectors select the pods.
	sel, err := metav1.LabelSelectorAsSelector(m.deploy.Spec.Selector)
	if err != nil || !sel.Matches(labelSet(pod.Labels)) {
		t.Errorf("the Deployment's selector does not select its pods: %v", err)
	}
	if pdbSel, err := metav1.LabelSelectorAsSelector(m.pdb.Spec.Selector); err != nil || !pdbSel.Matches(labelSet(pod.Labels)) {
		t.Errorf("the PodDisruptionBudget does not select the pods: %v", err)
	}
	for k, v := range m.svc.Spec.Selector {
		if pod.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, which the pods lack", k, v)
		}
	}

	// KEDA scales the Deployment on the pipelines' consumer lag.
	so := m.scaled.Spec
	if so.ScaleTargetRef.Name != m.deploy.Name {
		t.Errorf("ScaledObject scales %s, not Deployment %s", so.ScaleTargetRef.Name, m.deploy.Name)
	}
	if so.MaxReplicaCount == nil || int(*so.MaxReplicaCount) > cfg.Kafka.Topics.Partitions {
		t.Errorf("maxReplicaCount %v: at most the %d partitions, beyond which a runner holds none", so.MaxReplicaCount, cfg.Kafka.Topics.Partitions)
	}
	if len(so.Triggers) == 0 {
		t.Fatal("ScaledObject has no trigger")
	}
	for _, tr := range so.Triggers {
		md := tr.Metadata
		if tr.Type != "kafka" {
			t.Errorf("trigger type %s, want kafka", tr.Type)
			continue
		}
		if !slices.ContainsFunc(cfg.Pipelines, func(p *config.Pipeline) bool {
			return p.Input.Topic == md["topic"] && p.Input.Group == md["consumerGroup"]
		}) {
			t.Errorf("trigger on topic %s group %s: no pipeline reads that", md["topic"], md["consumerGroup"])
		}
		if md["bootstrapServers"] != strings.Join(cfg.Kafka.Brokers, ",") {
			t.Errorf("trigger bootstrapServers %s, the runners' brokers %s", md["bootstrapServers"], strings.Join(cfg.Kafka.Brokers, ","))
		}
		if _, err := strconv.Atoi(md["lagThreshold"]); err != nil {
			t.Errorf("lagThreshold %q: %v", md["lagThreshold"], err)
		}
		if tr.AuthenticationRef == nil || tr.AuthenticationRef.Name != m.trigger.Name {
			t.Errorf("trigger authentication %+v, want %s", tr.AuthenticationRef, m.trigger.Name)
		}
	}
	for _, ref := range m.trigger.Spec.SecretTargetRef {
		if _, ok := m.secret.StringData[ref.Key]; ref.Name != m.secret.Name || !ok {
			t.Errorf("TriggerAuthentication takes %s from %s/%s, which the Secret does not hold", ref.Parameter, ref.Name, ref.Key)
		}
	}
}

// labelSet is a pod's labels as a selector reads them.
type labelSet map[string]string

func (l labelSet) Has(k string) bool              { _, ok := l[k]; return ok }
func (l labelSet) Get(k string) string            { return l[k] }
func (l labelSet) Lookup(k string) (string, bool) { v, ok := l[k]; return v, ok }
