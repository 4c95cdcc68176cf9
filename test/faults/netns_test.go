package faults

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// namespace is a network namespace with a veth pair to the host, made by
// the test: a runner started in it reaches the broker only over the pair
// (the broker's extra listener on the host end), so taking the host end
// down partitions it from the broker, and bringing it up heals it. The
// addresses are link-local and exist only on this machine.
type namespace struct {
	name       string
	hostIf     string
	hostIP     string // the host end: the broker's extra listener
	nsIP       string // the namespace end: a runner's admin server
	brokerAddr string // the broker's listener on hostIP
}

// newNamespace makes the namespace and the pair, or says why it cannot.
func newNamespace() (*namespace, string) {
	if os.Geteuid() != 0 {
		return nil, "not root: a network namespace and a veth pair need CAP_NET_ADMIN"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, "no ip command (Debian: iproute2)"
	}
	id := os.Getpid() % 10000
	n := &namespace{
		name:   fmt.Sprintf("millrace-faults-%d", id),
		hostIf: fmt.Sprintf("mrf%dh", id),
		hostIP: "169.254.77.1",
		nsIP:   "169.254.77.2",
	}
	nsIf := fmt.Sprintf("mrf%dn", id)
	steps := [][]string{
		{"netns", "add", n.name},
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", n.name},
		{"addr", "add", n.hostIP + "/30", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"-n", n.name, "addr", "add", n.nsIP + "/30", "dev", nsIf},
		{"-n", n.name, "link", "set", nsIf, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			n.remove()
			return nil, fmt.Sprintf("ip %s: %v: %s", strings.Join(s, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return n, ""
}

// remove deletes the namespace, which deletes the pair.
func (n *namespace) remove() {
	_ = exec.Command("ip", "netns", "del", n.name).Run()
	_ = exec.Command("ip", "link", "del", n.hostIf).Run()
}

// link takes the host end of the pair down (a partition: packets are
// dropped, connections hang) or up.
func (n *namespace) link(up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	if out, err := exec.Command("ip", "link", "set", n.hostIf, state).CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set %s %s: %v: %s", n.hostIf, state, err, out)
	}
	return nil
}

// command runs name with args inside the namespace.
func (n *namespace) command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.name, name}, args...)...)
}

// get sends an HTTP GET from inside the namespace (where a runner's admin
// server is reachable even while the pair is down) and returns the status
// code and body. It needs only bash.
func (n *namespace) get(addr, path string) (int, string, error) {
	host, port, _ := strings.Cut(addr, ":")
	script := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%s && printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' >&3 && timeout 5 cat <&3`, host, port, path, addr)
	out, err := n.command("bash", "-c", script).Output()
	if err != nil {
		return 0, "", err
	}
	head, body, _ := strings.Cut(string(out), "\r\n\r\n")
	var code int
	if _, err := fmt.Sscanf(head, "HTTP/1.%d %d", new(int), &code); err != nil {
		return 0, "", fmt.Errorf("response %q: %v", head, err)
	}
	return code, body, nil
}
