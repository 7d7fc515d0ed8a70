package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/valyala/fasthttp"
)

// target is one HTTP request, sent unchanged in a closed loop.
type target struct {
	method  string
	url     string // absolute http://host:port/path?query
	headers map[string]string
	body    []byte
	// okBody, when set, must occur in every answer (H3Yun answers errors
	// with HTTP 200 and "Successful":false).
	okBody []byte
	// chain, when set, is a second request sent after every successful
	// answer, with the body chainBody builds from that answer (a native
	// record create, then the workflow start of the new record); latency
	// and success cover both.
	chain     *target
	chainBody func(answer []byte) ([]byte, error)
	// budget, when > 0, bounds the requests sent for this target (warm-up
	// included; a chain counts once): writes stay bounded whatever the
	// machine's speed. The window then ends at the last answer.
	budget int64
	// conns, when > 0, replaces -c for this target (a route whose answers
	// take seconds at -c would finish too few requests inside the window).
	conns int
}

// result is one scenario's measurement.
type result struct {
	requests int64 // answered inside the measured window
	failures int64 // transport errors, non-2xx, or okBody missing
	elapsed  time.Duration
	hist     *hdrhistogram.Histogram // latency in microseconds
	firstErr string
	capped   bool // the target's budget ended the window before dur
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// quantile returns the latency at q percent (0–100).
func (r result) quantile(q float64) time.Duration {
	return time.Duration(r.hist.ValueAtQuantile(q)) * time.Microsecond
}

// Latencies are recorded in microseconds from 1 µs to 60 s with three
// significant digits (HdrHistogram keeps the error under 0.1 %).
const (
	histMin = 1
	histMax = 60_000_000
	histSig = 3
)

// closedLoop runs conns workers, each holding one keep-alive connection and
// sending the next request as soon as the previous answer is read (like
// wrk -c conns), for warmup and then for dur. Only requests started and
// finished inside the measured window are counted. Statistics come from
// HdrHistogram: one histogram per worker, merged at the end.
func closedLoop(ctx context.Context, t target, conns int, warmup, dur time.Duration) (result, error) {
	if t.conns > 0 {
		conns = t.conns
	}
	uri := fasthttp.AcquireURI()
	defer fasthttp.ReleaseURI(uri)
	if err := uri.Parse(nil, []byte(t.url)); err != nil {
		return result{}, fmt.Errorf("parse %s: %w", t.url, err)
	}
	hc := &fasthttp.HostClient{
		Addr:                          string(uri.Host()),
		MaxConns:                      conns,
		MaxIdleConnDuration:           time.Minute,
		ReadTimeout:                   30 * time.Second,
		WriteTimeout:                  30 * time.Second,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
	}
	defer hc.CloseIdleConnections()

	type workerOut struct {
		n, fail  int64
		hist     *hdrhistogram.Histogram
		firstErr string
		last     time.Time // end of the last request counted
		capped   bool
	}
	outs := make([]workerOut, conns)
	start := time.Now()
	measureFrom := start.Add(warmup)
	stopAt := measureFrom.Add(dur)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func(o *workerOut) {
			defer wg.Done()
			o.hist = hdrhistogram.New(histMin, histMax, histSig)
			req := fasthttp.AcquireRequest()
			res := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			t.prepare(req)
			var req2 *fasthttp.Request
			var res2 *fasthttp.Response
			if t.chain != nil {
				req2, res2 = fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req2)
				defer fasthttp.ReleaseResponse(res2)
				t.chain.prepare(req2)
			}
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(stopAt) {
					return
				}
				if t.budget > 0 && sent.Add(1) > t.budget {
					o.capped = true
					return
				}
				failed := t.check(hc.Do(req, res), res)
				if failed == "" && t.chain != nil {
					failed = t.sendChain(hc, res.Body(), req2, res2)
				}
				t1 := time.Now()
				if t0.Before(measureFrom) || t1.After(stopAt) {
					continue // warm-up, or straddles the end of the window
				}
				o.last = t1
				if failed != "" {
					o.fail++
					if o.firstErr == "" {
						o.firstErr = failed
					}
					continue
				}
				o.n++
				_ = o.hist.RecordValue(t1.Sub(t0).Microseconds())
			}
		}(&outs[w])
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	r := result{elapsed: dur, hist: hdrhistogram.New(histMin, histMax, histSig)}
	var last time.Time
	for _, o := range outs {
		r.requests += o.n
		r.failures += o.fail
		r.hist.Merge(o.hist)
		if r.firstErr == "" {
			r.firstErr = o.firstErr
		}
		r.capped = r.capped || o.capped
		if o.last.After(last) {
			last = o.last
		}
	}
	if r.capped && last.After(measureFrom) && last.Sub(measureFrom) < dur {
		r.elapsed = last.Sub(measureFrom)
	}
	if r.requests == 0 {
		return r, errors.New("no successful request: " + r.firstErr)
	}
	return r, nil
}

// prepare sets req to t's request.
func (t *target) prepare(req *fasthttp.Request) {
	req.SetRequestURI(t.url)
	req.Header.SetMethod(t.method)
	for k, v := range t.headers {
		req.Header.Set(k, v)
	}
	if t.body != nil {
		req.SetBodyRaw(t.body)
	}
}

// check returns why an answer failed, "" when it is good.
func (t *target) check(err error, res *fasthttp.Response) string {
	switch {
	case err != nil:
		return err.Error()
	case res.StatusCode() < 200 || res.StatusCode() > 299:
		return fmt.Sprintf("HTTP %d: %.200s", res.StatusCode(), res.Body())
	case t.okBody != nil && !bytes.Contains(res.Body(), t.okBody):
		return fmt.Sprintf("answer without %s: %.200s", t.okBody, res.Body())
	}
	return ""
}

// doer sends one request (fasthttp.HostClient, or fasthttp's default
// client for once).
type doer interface {
	Do(req *fasthttp.Request, res *fasthttp.Response) error
}

// sendChain sends t.chain with the body built from the first answer.
func (t *target) sendChain(c doer, answer []byte, req *fasthttp.Request, res *fasthttp.Response) string {
	body, err := t.chainBody(answer)
	if err != nil {
		return "chain: " + err.Error()
	}
	req.SetBodyRaw(body)
	return t.chain.check(c.Do(req, res), res)
}

type timeoutDoer struct{}

func (timeoutDoer) Do(req *fasthttp.Request, res *fasthttp.Response) error {
	return fasthttp.DoTimeout(req, res, 30*time.Second)
}

// once sends t one time and checks the answer; scenarios are validated
// before they are measured.
func once(t target) error {
	req := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	t.prepare(req)
	if failed := t.check(timeoutDoer{}.Do(req, res), res); failed != "" {
		return errors.New(failed)
	}
	if t.chain != nil {
		req2, res2 := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req2)
		defer fasthttp.ReleaseResponse(res2)
		t.chain.prepare(req2)
		if failed := t.sendChain(timeoutDoer{}, res.Body(), req2, res2); failed != "" {
			return errors.New(failed)
		}
	}
	return nil
}
