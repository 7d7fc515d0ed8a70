// Package messages is the hub's outgoing-message port and its outbox
// (issue 11 #5): every SMS and e-mail the hub sends — verification codes
// of /auth/sendcode, messages a principal sends through /api/v1/outbox or
// the Host API — goes through one Outbox, which records it as an `outbox`
// document of its tenant and hands it to the delivering Sender (a gateway
// adapter).
//
// Delivery rules:
//
//   - An ordinary message is queued: its outbox row and a queue entry are
//     written with the caller's context, so inside a store transaction they
//     commit or roll back with the caller's own writes (a send is never
//     lost, and never sent for a write that failed). The Dispatcher
//     delivers queued rows, marks them sent, retries failures with
//     exponential backoff and resumes after a restart (the queue is in the
//     store).
//   - A message holding a one-time secret (a verification code) is never
//     stored with the secret: its row keeps the body masked, and it is
//     delivered during Send, with retries kept in memory. If that fails the
//     row is marked failed and Send returns the error (the caller drops the
//     code and the user asks again). After a restart nothing can re-send it.
//   - With no gateway configured the hub has no channel to deliver to: rows
//     are written with status "recorded" and nothing is queued.
package messages

import (
	"context"
	"strings"
)

// Message is one outgoing SMS or e-mail.
//
// A verification-code message carries the code twice: inside Body (what the
// recipient reads) and in Secret. A Sender that stores, logs or queues a
// message outside the process must use Redacted(), never Body: codes are
// readable by their recipient only.
type Message struct {
	Tenant  string
	Channel string // ChannelSMS or ChannelEmail
	To      string
	Subject string
	Body    string
	// Secret is the one-time value inside Body (a verification code); ""
	// when the message holds none.
	Secret string
	// Template names the kind of message ("verification_code"), Purpose the
	// code's purpose (login, register, reset, bind): what a gateway needs to
	// pick a registered SMS template, and what the outbox keeps.
	Template string
	Purpose  string
	// By is the Operator {id, value, label} of the principal that sent the
	// message (the row's createBy); nil for the system's own messages.
	By map[string]any
}

// Channels.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// TemplateVerificationCode is Message.Template of SMS verification codes.
const TemplateVerificationCode = "verification_code"

// Redacted returns Body with Secret masked.
func (m Message) Redacted() string {
	if m.Secret == "" {
		return m.Body
	}
	return strings.ReplaceAll(m.Body, m.Secret, strings.Repeat("*", len(m.Secret)))
}

// Sender delivers messages: a gateway adapter (SMS provider, SMTP relay),
// or the Outbox itself, which is the Sender the rest of the hub uses.
//
// Send returns nil once the gateway accepted the message; an error means it
// was not delivered and may be retried. It must honour ctx's deadline.
//
// Retries of secrets: a verification code lives only in the cache (hashed)
// and in the Message handed to Send. A sender that retries does so within
// Send (or keeps the Message in memory, never in storage) for at most the
// code's lifetime; when Send returns an error the code is dropped and the
// caller asks for a new one. Nothing that a later process could re-send
// holds the code.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// MaskRecipient keeps the last four characters of a phone or address, for
// logs.
func MaskRecipient(s string) string {
	if len(s) <= 4 {
		return strings.Repeat("*", len(s))
	}
	return strings.Repeat("*", len(s)-4) + s[len(s)-4:]
}
