//go:build unix

package kafka

import "syscall"

// restrictUmask adds 077 to the process's umask: files created from now on
// are not readable by group or others.
func restrictUmask() {
	old := syscall.Umask(0o077)
	syscall.Umask(old | 0o077)
}
