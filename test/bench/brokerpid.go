package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// brokerPID finds the process of an external broker at addr (HOST:PORT), for
// its CPU time: the pid given by --broker-pid, or with "auto" the process
// on this machine that listens on that address (from /proc/net/tcp{,6} and
// the processes' open sockets; test/kafka's broker is found so, whatever
// its state folder). 0 with a reason when there is none.
func brokerPID(flagValue, addr string) (int, string) {
	switch flagValue {
	case "off", "0", "none":
		return 0, "--broker-pid off"
	case "", "auto":
	default:
		pid, err := strconv.Atoi(flagValue)
		if err != nil || pid <= 0 {
			return 0, fmt.Sprintf("--broker-pid %q is not a pid", flagValue)
		}
		if _, err := os.Stat("/proc/" + flagValue + "/stat"); err != nil {
			return 0, fmt.Sprintf("--broker-pid %d: no such process", pid)
		}
		return pid, ""
	}
	pid, err := listenerPID(addr)
	if err != nil {
		return 0, err.Error() + " (pass --broker-pid PID)"
	}
	return pid, ""
}

// listenerPID is the pid of the local process listening on addr.
func listenerPID(addr string) (int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q: %w", portStr, err)
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return 0, err
	}
	if !slices.ContainsFunc(ips, isLocalIP) {
		return 0, fmt.Errorf("%s is not an address of this machine", host)
	}
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, l := range listeners(f) {
			if l.port != uint16(port) {
				continue
			}
			if l.ip.IsUnspecified() || slices.ContainsFunc(ips, l.ip.Equal) {
				inodes[l.inode] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("no listening socket on %s in /proc/net/tcp", addr)
	}
	var pids []int
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				pids = append(pids, pid)
				break
			}
		}
	}
	switch len(pids) {
	case 0:
		return 0, fmt.Errorf("no process found with the listening socket of %s", addr)
	case 1:
		return pids[0], nil
	}
	return 0, fmt.Errorf("several processes share the listening socket of %s: %v", addr, pids)
}

func isLocalIP(ip net.IP) bool {
	if ip.IsLoopback() {
		return true
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

type listener struct {
	ip    net.IP
	port  uint16
	inode string
}

// listeners reads the sockets in LISTEN state of a /proc/net/tcp file.
func listeners(path string) []listener {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []listener
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" {
			continue
		}
		hexIP, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			continue
		}
		ip, err := procNetIP(hexIP)
		if err != nil {
			continue
		}
		out = append(out, listener{ip: ip, port: uint16(port), inode: f[9]})
	}
	return out
}

// procNetIP decodes an address of /proc/net/tcp{,6}: 32-bit words in host
// (little-endian) order.
func procNetIP(s string) (net.IP, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) != 4 && len(b) != 16 {
		return nil, errors.New("bad address length")
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b), nil
}
