package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
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
}

// result is one scenario's measurement.
type result struct {
	requests int64 // answered inside the measured window
	failures int64 // transport errors, non-2xx, or okBody missing
	elapsed  time.Duration
	hist     *hdrhistogram.Histogram // latency in microseconds
	firstErr string
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
	}
	outs := make([]workerOut, conns)
	start := time.Now()
	measureFrom := start.Add(warmup)
	stopAt := measureFrom.Add(dur)
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
			req.SetRequestURI(t.url)
			req.Header.SetMethod(t.method)
			for k, v := range t.headers {
				req.Header.Set(k, v)
			}
			if t.body != nil {
				req.SetBodyRaw(t.body)
			}
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(stopAt) {
					return
				}
				err := hc.Do(req, res)
				t1 := time.Now()
				if t0.Before(measureFrom) || t1.After(stopAt) {
					continue // warm-up, or straddles the end of the window
				}
				failed := ""
				switch {
				case err != nil:
					failed = err.Error()
				case res.StatusCode() < 200 || res.StatusCode() > 299:
					failed = fmt.Sprintf("HTTP %d: %.200s", res.StatusCode(), res.Body())
				case t.okBody != nil && !bytes.Contains(res.Body(), t.okBody):
					failed = fmt.Sprintf("answer without %s: %.200s", t.okBody, res.Body())
				}
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
	for _, o := range outs {
		r.requests += o.n
		r.failures += o.fail
		r.hist.Merge(o.hist)
		if r.firstErr == "" {
			r.firstErr = o.firstErr
		}
	}
	if r.requests == 0 {
		return r, errors.New("no successful request: " + r.firstErr)
	}
	return r, nil
}

// once sends t one time and checks the answer; scenarios are validated
// before they are measured.
func once(t target) error {
	req := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI(t.url)
	req.Header.SetMethod(t.method)
	for k, v := range t.headers {
		req.Header.Set(k, v)
	}
	if t.body != nil {
		req.SetBodyRaw(t.body)
	}
	if err := fasthttp.DoTimeout(req, res, 30*time.Second); err != nil {
		return err
	}
	if res.StatusCode() != 200 {
		return fmt.Errorf("HTTP %d: %.300s", res.StatusCode(), res.Body())
	}
	if t.okBody != nil && !bytes.Contains(res.Body(), t.okBody) {
		return fmt.Errorf("answer without %s: %.300s", t.okBody, res.Body())
	}
	return nil
}
