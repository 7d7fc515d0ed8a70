package messages

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Webhook is a gateway Sender that POSTs each message as JSON to URL, for
// an SMS or mail relay of the operator's own (one small HTTP service in
// front of any provider). A 2xx answer is delivery; anything else, or a
// transport error, is a failure the outbox retries.
//
// The JSON body is {tenant, channel, to, subject, body, template, purpose}.
// body is the full text, a verification code included: the relay must not
// log it. Header (e.g. an Authorization bearer) is sent with each request.
type Webhook struct {
	URL    string
	Header http.Header
	// Client defaults to http.DefaultClient; the outbox bounds each call
	// with its SendTimeout.
	Client *http.Client
}

// webhookBody is what Webhook POSTs.
type webhookBody struct {
	Tenant   string `json:"tenant"`
	Channel  string `json:"channel"`
	To       string `json:"to"`
	Subject  string `json:"subject,omitempty"`
	Body     string `json:"body"`
	Template string `json:"template,omitempty"`
	Purpose  string `json:"purpose,omitempty"`
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	raw, err := json.Marshal(webhookBody{Tenant: m.Tenant, Channel: m.Channel, To: m.To, Subject: m.Subject,
		Body: m.Body, Template: m.Template, Purpose: m.Purpose})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	for k, vs := range w.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	c := w.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
