//go:build !unix

package kafka

// restrictUmask does nothing where there is no umask; the data dir's own
// permissions apply.
func restrictUmask() {}
