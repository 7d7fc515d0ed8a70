package main

import (
	"context"

	"github.com/eimshub/eimshub/core/identity"
)

type senderKey struct{}

// withSender returns ctx carrying the SMS/e-mail sender buildHub wires
// instead of the default (the outbox, codes masked). Tests use it with an
// identity.CaptureSender to read codes the way a phone would; an SMS
// gateway adapter would be wired the same way.
func withSender(ctx context.Context, s identity.Sender) context.Context {
	return context.WithValue(ctx, senderKey{}, s)
}

// senderFrom returns the sender in ctx, nil for the default.
func senderFrom(ctx context.Context) identity.Sender {
	s, _ := ctx.Value(senderKey{}).(identity.Sender)
	return s
}

// tee hands each message to every sender in order (the outbox record
// first, then the delivering sender); the first error stops it.
type tee []identity.Sender

func (t tee) Send(ctx context.Context, m identity.Message) error {
	for _, s := range t {
		if err := s.Send(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
