package transforms

import (
	"fmt"
	"sort"
	"sync"
)

// Registry maps transform names to their specs and factories. Default holds
// what registers itself with Register; embedders and tests may make
// isolated ones with NewRegistry, or extend a Clone.
type Registry struct {
	mu      sync.RWMutex
	entries map[string]*Registration
}

// Registration is a registered transform.
type Registration struct {
	Spec Spec
	New  Factory
}

// Default is the registry YAML configs use unless told otherwise. Importing
// package transforms/builtin registers the built-ins in it (pipeline/config
// does); importing this package alone leaves it empty.
var Default = NewRegistry()

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{entries: map[string]*Registration{}}
}

// Register adds a transform to the Default registry, typically from an
// init function. It panics on a duplicate name or an incomplete spec: those
// are programming errors.
func Register(s Spec, f Factory) { Default.Register(s, f) }

// Register adds a transform. It panics on a duplicate name, a spec without
// a name, summary or config shape, or a default that does not fit its
// field.
func (r *Registry) Register(s Spec, f Factory) {
	if s.Name == "" || s.Summary == "" || s.Config == nil || f == nil {
		panic(fmt.Sprintf("transforms: incomplete spec for %q: name, summary, config and factory are required", s.Name))
	}
	if err := s.Config.CheckDefaults(); err != nil {
		panic(fmt.Sprintf("transforms: spec for %q: %v", s.Name, err))
	}
	if reservedStepKeys[s.Name] {
		panic(fmt.Sprintf("transforms: %q is a reserved step key", s.Name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.entries[s.Name]; dup {
		panic(fmt.Sprintf("transforms: %q registered twice", s.Name))
	}
	r.entries[s.Name] = &Registration{Spec: s, New: f}
}

// Lookup finds a transform by name.
func (r *Registry) Lookup(name string) (*Registration, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	reg, ok := r.entries[name]
	return reg, ok
}

// Names lists the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Clone returns an isolated copy that can be extended without touching r.
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := NewRegistry()
	for n, e := range r.entries {
		c.entries[n] = e
	}
	return c
}
