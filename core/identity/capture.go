package identity

import (
	"context"
	"slices"
	"sync"
)

// CaptureSender is a Sender that keeps every message in memory, codes
// included, for tests: they read codes from the sender, the way a phone
// would, never from the API. Optionally it forwards each message to Next
// (e.g. an OutboxSender) after capturing it. Safe for concurrent use.
type CaptureSender struct {
	Next Sender

	mu   sync.Mutex
	msgs []Message
}

// Send implements Sender.
func (c *CaptureSender) Send(ctx context.Context, m Message) error {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	if c.Next != nil {
		return c.Next.Send(ctx, m)
	}
	return nil
}

// Messages returns the messages sent to `to` ("" = all), oldest first.
func (c *CaptureSender) Messages(to string) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Message
	for _, m := range c.msgs {
		if to == "" || m.To == to {
			out = append(out, m)
		}
	}
	return slices.Clip(out)
}

// LastCode returns the secret (verification code) of the newest message to
// `to`, "" when there is none.
func (c *CaptureSender) LastCode(to string) string {
	ms := c.Messages(to)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Secret != "" {
			return ms[i].Secret
		}
	}
	return ""
}
