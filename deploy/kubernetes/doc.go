// Package kubernetes holds Millrace's Kubernetes manifests (the YAML files
// in this folder) and the test that checks them against the Kubernetes API
// types and against what pipeline-runner serves and reads. It is a module
// of its own, so that the Kubernetes API modules stay out of Millrace's.
package kubernetes
