package cli

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// dialTimeout bounds the check that a broker accepts connections.
const dialTimeout = 5 * time.Second

// reachable checks that at least one of the brokers accepts a TCP
// connection, so that a command says "cannot reach" at once rather than
// retrying until its timeout. It knows nothing of TLS or SASL: those are
// checked, and explained, by the client.
func reachable(ctx context.Context, addrs []string) error {
	var first error
	for _, a := range addrs {
		d := net.Dialer{Timeout: dialTimeout}
		c, err := d.DialContext(ctx, "tcp", a)
		if err == nil {
			c.Close()
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return fmt.Errorf("cannot reach the brokers %s: %w (is the broker running? pass --brokers or set kafka.brokers)",
		strings.Join(addrs, ","), first)
}
