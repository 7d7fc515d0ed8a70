package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/messages"
)

type senderKey struct{}

// withSender returns ctx carrying the gateway buildHub delivers outbox
// messages through instead of the configured one. Tests use it with an
// identity.CaptureSender to read codes the way a phone would.
func withSender(ctx context.Context, s identity.Sender) context.Context {
	return context.WithValue(ctx, senderKey{}, s)
}

// senderFrom returns the sender in ctx, nil for the configured one.
func senderFrom(ctx context.Context) identity.Sender {
	s, _ := ctx.Value(senderKey{}).(identity.Sender)
	return s
}

// startOutbox builds the process's one outbox (the sender of
// /auth/sendcode, POST /api/v1/outbox and the Host API) over the gateway
// in ctx or the configured webhook, and runs its dispatcher until the hub
// closes. Without a gateway messages are recorded, not delivered.
func (h *hub) startOutbox(ctx context.Context) *messages.Outbox {
	log := h.log.With("component", "outbox")
	gw := senderFrom(ctx)
	if gw == nil {
		gw = h.configuredGateway(log)
	}
	ob := messages.New(h.store, messages.Options{Gateway: gw, Logger: log, MaxAttempts: h.cfg.Messages.MaxAttempts})
	if !ob.Delivers() {
		log.Info("no message gateway configured (messages.webhookURL, messages.smtp): e-mail and SMS are recorded in the outbox, not delivered")
		return ob
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ob.Run(rctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("outbox dispatcher stopped", "err", err)
		}
	}()
	h.closers = append(h.closers, func() error { cancel(); <-done; return nil })
	return ob
}

// configuredGateway is the gateway of the config: the webhook for every
// channel, or e-mail through messages.smtp and SMS through the webhook
// (an SMS without a webhook then fails, and is marked failed); nil when
// neither is configured.
func (h *hub) configuredGateway(log *slog.Logger) messages.Sender {
	mc := h.cfg.Messages
	var wh messages.Sender
	if mc.WebhookURL != "" {
		w := &messages.Webhook{URL: mc.WebhookURL}
		if tok := mc.WebhookToken; tok != "" {
			w.Header = http.Header{"Authorization": {"Bearer " + tok}}
		}
		wh = w
	}
	if mc.SMTP.Addr == "" {
		return wh
	}
	ch := messages.Channels{messages.ChannelEmail: &messages.SMTP{Addr: mc.SMTP.Addr, Security: mc.SMTP.Security,
		Username: mc.SMTP.Username, Password: mc.SMTP.Password, From: mc.SMTP.From}}
	if wh != nil {
		ch[messages.ChannelSMS] = wh
	} else {
		log.Warn("messages.smtp delivers e-mail; no SMS gateway (messages.webhookURL): SMS messages will fail")
	}
	return ch
}
