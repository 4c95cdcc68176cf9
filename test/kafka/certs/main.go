// Command certs writes the TLS material of the test Kafka broker started by
// test/kafka/kafka.sh: a certificate authority, a broker certificate for the
// loopback addresses, a client certificate for mutual TLS, and the material
// of the failure tests (a second, untrusted CA with a client certificate of
// its own, and an expired client certificate signed by the real CA).
//
// Everything is PEM: certificates as "CERTIFICATE" blocks, private keys as
// unencrypted PKCS#8 "PRIVATE KEY" blocks (ECDSA P-256), which Go, librdkafka
// and Kafka (ssl.keystore.type=PEM) all read.
//
// It is idempotent: when the directory already holds a complete, consistent
// set that stays valid for at least -renew, it writes nothing; otherwise it
// writes a new set (all files, so that they always belong together).
//
//	go run ./test/kafka/certs -dir .cache/kafka-run/tls
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside -dir. kafka.sh and the tests refer to them.
const (
	caCert              = "ca.pem"
	caKey               = "ca-key.pem"
	brokerCert          = "broker.pem" // broker certificate followed by the CA
	brokerKey           = "broker-key.pem"
	clientCert          = "client.pem"
	clientKey           = "client-key.pem"
	expiredClientCert   = "expired-client.pem"
	expiredClientKey    = "expired-client-key.pem"
	untrustedCACert     = "untrusted-ca.pem"
	untrustedCAKey      = "untrusted-ca-key.pem"
	untrustedClientCert = "untrusted-client.pem"
	untrustedClientKey  = "untrusted-client-key.pem"
	brokerCommonName    = "millrace-test-broker"
	clientCommonName    = "millrace-test-client"
	expiredCommonName   = "millrace-test-expired-client"
	untrustedCommonName = "millrace-test-untrusted-client"
	caName              = "millrace test CA"
	untrustedCAName     = "millrace untrusted test CA"
)

type options struct {
	dir   string
	hosts []string
	valid time.Duration
	renew time.Duration
	force bool
}

func main() {
	var o options
	var hosts string
	flag.StringVar(&o.dir, "dir", "", "directory to write the certificates and keys to (created if missing)")
	flag.StringVar(&hosts, "hosts", "127.0.0.1,localhost", "comma-separated IP addresses and DNS names of the broker certificate")
	flag.DurationVar(&o.valid, "valid", 90*24*time.Hour, "validity of the new certificates")
	flag.DurationVar(&o.renew, "renew", 7*24*time.Hour, "write a new set when a certificate expires within this")
	flag.BoolVar(&o.force, "force", false, "write a new set even if the current one is fine")
	flag.Parse()
	if o.dir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: certs -dir DIR [-hosts 127.0.0.1,localhost] [-valid 2160h] [-renew 168h] [-force]")
		os.Exit(2)
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			o.hosts = append(o.hosts, h)
		}
	}
	if len(o.hosts) == 0 {
		fail(errors.New("-hosts is empty"))
	}
	if o.renew >= o.valid {
		fail(fmt.Errorf("-renew (%s) must be shorter than -valid (%s)", o.renew, o.valid))
	}
	if !o.force {
		err := check(o, time.Now())
		if err == nil {
			fmt.Fprintf(os.Stderr, "certs: %s is up to date\n", o.dir)
			return
		}
		if !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "certs: writing a new set: %v\n", err)
		}
	}
	if err := generate(o, time.Now()); err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "certs: wrote a CA, broker and client certificates for %s to %s\n", strings.Join(o.hosts, ", "), o.dir)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "certs:", err)
	os.Exit(1)
}

// ------------------------------------------------------------------ generate

type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// generate writes a complete new set.
func generate(o options, now time.Time) error {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	// The CA outlives its leaves by a day so that renewal is driven by the leaves.
	ca, err := newCA(caName, now, o.valid+24*time.Hour)
	if err != nil {
		return err
	}
	untrusted, err := newCA(untrustedCAName, now, o.valid+24*time.Hour)
	if err != nil {
		return err
	}
	var ips []net.IP
	var names []string
	for _, h := range o.hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			names = append(names, h)
		}
	}
	type leaf struct {
		certFile, keyFile string
		tmpl              *x509.Certificate
		issuer            authority
		chain             bool // append the issuer's certificate
	}
	leaves := []leaf{
		{brokerCert, brokerKey, &x509.Certificate{
			Subject:     pkix.Name{CommonName: brokerCommonName},
			NotBefore:   now.Add(-time.Hour),
			NotAfter:    now.Add(o.valid),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			IPAddresses: ips,
			DNSNames:    names,
		}, ca, true},
		{clientCert, clientKey, clientTemplate(clientCommonName, now.Add(-time.Hour), now.Add(o.valid)), ca, false},
		// Expired yesterday, after a day of validity.
		{expiredClientCert, expiredClientKey, clientTemplate(expiredCommonName, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), ca, false},
		{untrustedClientCert, untrustedClientKey, clientTemplate(untrustedCommonName, now.Add(-time.Hour), now.Add(o.valid)), untrusted, false},
	}

	files := map[string][]byte{}
	add := func(certFile, keyFile string, certDER []byte, key crypto.Signer, chain ...[]byte) error {
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		for _, der := range append([][]byte{certDER}, chain...) {
			_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
		}
		files[certFile] = b.Bytes()
		files[keyFile] = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
		return nil
	}
	if err := add(caCert, caKey, ca.cert.Raw, ca.key); err != nil {
		return err
	}
	if err := add(untrustedCACert, untrustedCAKey, untrusted.cert.Raw, untrusted.key); err != nil {
		return err
	}
	for _, l := range leaves {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		if l.tmpl.SerialNumber, err = serial(); err != nil {
			return err
		}
		l.tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		l.tmpl.BasicConstraintsValid = true
		der, err := x509.CreateCertificate(rand.Reader, l.tmpl, l.issuer.cert, key.Public(), l.issuer.key)
		if err != nil {
			return fmt.Errorf("sign %s: %w", l.certFile, err)
		}
		var chain [][]byte
		if l.chain {
			chain = append(chain, l.issuer.cert.Raw)
		}
		if err := add(l.certFile, l.keyFile, der, key, chain...); err != nil {
			return err
		}
	}
	// Keys first, so that a reader never pairs a new certificate with an old key
	// for long; each file is replaced atomically.
	for name, data := range files {
		if strings.HasSuffix(name, "-key.pem") {
			if err := writeFile(filepath.Join(o.dir, name), data, 0o600); err != nil {
				return err
			}
		}
	}
	for name, data := range files {
		if !strings.HasSuffix(name, "-key.pem") {
			if err := writeFile(filepath.Join(o.dir, name), data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func clientTemplate(cn string, notBefore, notAfter time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: []string{"millrace tests"}},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

func newCA(cn string, now time.Time, valid time.Duration) (authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return authority{}, err
	}
	sn, err := serial()
	if err != nil {
		return authority{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"millrace tests"}},
		// Valid since before the expired client certificate was, so that the
		// only thing wrong with that one is its own expiry.
		NotBefore:             now.Add(-72 * time.Hour),
		NotAfter:              now.Add(valid),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return authority{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return authority{}, err
	}
	return authority{cert: cert, key: key}, nil
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// --------------------------------------------------------------------- check

// check returns nil if dir holds a complete set that fits the options and
// stays valid for at least o.renew after now.
func check(o options, now time.Time) error {
	load := func(certFile, keyFile string) ([]*x509.Certificate, error) {
		certPEM, err := os.ReadFile(filepath.Join(o.dir, certFile))
		if err != nil {
			return nil, err
		}
		keyPEM, err := os.ReadFile(filepath.Join(o.dir, keyFile))
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", certFile, keyFile, err)
		}
		var certs []*x509.Certificate
		for _, der := range pair.Certificate {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", certFile, err)
			}
			certs = append(certs, c)
		}
		return certs, nil
	}
	ca, err := load(caCert, caKey)
	if err != nil {
		return err
	}
	untrusted, err := load(untrustedCACert, untrustedCAKey)
	if err != nil {
		return err
	}
	if bytes.Equal(ca[0].Raw, untrusted[0].Raw) {
		return errors.New("the untrusted CA is the CA")
	}
	pool := func(c *x509.Certificate) *x509.CertPool {
		p := x509.NewCertPool()
		p.AddCert(c)
		return p
	}
	renewAt := now.Add(o.renew)
	verify := func(name string, chain []*x509.Certificate, root *x509.Certificate, at time.Time, usage x509.ExtKeyUsage) error {
		_, err := chain[0].Verify(x509.VerifyOptions{Roots: pool(root), CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}

	broker, err := load(brokerCert, brokerKey)
	if err != nil {
		return err
	}
	if len(broker) != 2 || !bytes.Equal(broker[1].Raw, ca[0].Raw) {
		return fmt.Errorf("%s is not the broker certificate followed by the CA", brokerCert)
	}
	for _, at := range []time.Time{now, renewAt} {
		if err := verify(brokerCert, broker, ca[0], at, x509.ExtKeyUsageServerAuth); err != nil {
			return err
		}
	}
	for _, h := range o.hosts {
		if err := broker[0].VerifyHostname(h); err != nil {
			return fmt.Errorf("%s: %w", brokerCert, err)
		}
	}
	want := map[string]bool{}
	for _, h := range o.hosts {
		want[h] = true
	}
	if len(broker[0].IPAddresses)+len(broker[0].DNSNames) != len(want) {
		return fmt.Errorf("%s has other names than %s", brokerCert, strings.Join(o.hosts, ", "))
	}

	for _, c := range []struct {
		cert, key string
		root      *x509.Certificate
	}{{clientCert, clientKey, ca[0]}, {untrustedClientCert, untrustedClientKey, untrusted[0]}} {
		leaf, err := load(c.cert, c.key)
		if err != nil {
			return err
		}
		for _, at := range []time.Time{now, renewAt} {
			if err := verify(c.cert, leaf, c.root, at, x509.ExtKeyUsageClientAuth); err != nil {
				return err
			}
		}
	}
	expired, err := load(expiredClientCert, expiredClientKey)
	if err != nil {
		return err
	}
	if !expired[0].NotAfter.Before(now) {
		return fmt.Errorf("%s has not expired", expiredClientCert)
	}
	return verify(expiredClientCert, expired, ca[0], expired[0].NotAfter.Add(-time.Minute), x509.ExtKeyUsageClientAuth)
}
