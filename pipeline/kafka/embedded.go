package kafka

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is the in-process Kafka-protocol broker (franz-go's kfake). It is
// for development, demos and tests; production uses a Kafka cluster.
type Embedded struct {
	cluster *kfake.Cluster
	addr    string
}

// StartEmbedded starts the broker on listen (host:port) with its data under
// dataDir. Topics are created on first use.
//
// The data is record data: dataDir is made (or tightened to) 0700, and on
// Unix the process's umask gets 077 added, so that the files the broker
// creates from then on are the owner's only (kfake creates them 0644 and
// takes no mode).
func StartEmbedded(listen, dataDir string, partitions int) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("embedded broker: listen address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("embedded broker: listen port %q is not a number", portStr)
	}
	opts := []kfake.Opt{
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(partitions),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
	}
	if dataDir != "" {
		if err := privateDir(dataDir); err != nil {
			return nil, fmt.Errorf("embedded broker: data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded broker on %s: %w", listen, err)
	}
	return &Embedded{cluster: c, addr: c.ListenAddrs()[0]}, nil
}

// Addr is the address clients dial.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker and flushes its data.
func (e *Embedded) Close() { e.cluster.Close() }

// privateDir creates dir, or tightens it, to 0700, and keeps the files
// created later in the process private (restrictUmask).
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	restrictUmask()
	return nil
}
