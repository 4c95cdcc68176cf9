package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/millrace-dev/millrace/pipeline/admin"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/observe"
)

// startObserving starts the admin server with a new observer, unless
// admin.address is off. The default address in use is a warning, not an
// error, so that a second runner on the same host still runs; a configured
// address that cannot be bound is an error. The returned function stops
// both.
func (r *Runner) startObserving() (stop func(), err error) {
	a := r.cfg.Admin
	if !a.Enabled() {
		return func() {}, nil
	}
	obs := observe.New(observe.Options{
		Version:      r.version,
		ClientID:     r.cfg.Kafka.ClientID,
		PollInterval: a.PollInterval,
		Logger:       r.log,
		Replays:      r.replays,
	})
	for _, p := range r.pipelines {
		obs.AddPipeline(p, slices.Index(r.cfg.Pipelines, p))
	}
	srv, err := admin.Start(admin.Options{Address: a.Address, Pprof: a.Pprof, CertFile: a.CertFile, KeyFile: a.KeyFile,
		Auth: admin.Auth{BearerToken: a.BearerToken, User: a.User, Password: a.Password}, AllowedHosts: a.AllowedHosts,
		Observer: obs, Controller: r.controls, Logger: r.log})
	if err != nil {
		if !a.AddressSet && errors.Is(err, syscall.EADDRINUSE) {
			r.log.Warn("admin server not started: its default address is in use; set admin.address or --admin-addr",
				"addr", a.Address)
			return func() {}, nil
		}
		return nil, err
	}
	r.obs = obs
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			r.log.Warn("admin server close", "error", err.Error())
		}
		obs.Close()
	}, nil
}

// pollBrokers starts the observer's lag and group polling, with a client
// of its own.
func (r *Runner) pollBrokers(brokers []string) error {
	if r.obs == nil {
		return nil
	}
	cl, err := kafka.NewClient(brokers, r.cfg.Kafka.ClientID, r.sec)
	if err != nil {
		return fmt.Errorf("lag poller: %w", err)
	}
	r.obs.Start(cl)
	return nil
}
