package h3yun_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eimshub/eimshub/connectors/h3yun"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// BenchmarkInvoke measures LoadBizObject and a 50-row LoadBizObjects with
// the connector in process and in a plugin process, against the seeded
// MemHost (so it measures the connector and the plugin hop, not a store).
// "direct" is the Host calls alone: the floor any dialect pays;
// "plugin-reused" sends a StoreVersion, so every request after the first
// is answered from the kept answer (the hop alone).
//
// Besides ns/op (wall time, one request at a time: it includes waiting
// for the other process), cpu-µs/op is the CPU time both processes spent
// per request (this one: connector or gRPC client and the in-memory host;
// the plugin process's, plugin-cpu-µs/op, read from /proc). CPU time per
// request is what bounds throughput on a busy machine and is far less
// sensitive to other load than wall time.
//
//	go test ./connectors/h3yun -run X -bench Invoke
func BenchmarkInvoke(b *testing.B) {
	mem := newHost()
	ctx := context.Background()
	var first string
	for i := range 60 {
		rec, err := mem.CreateRecord(ctx, &service, demoForm, map[string]any{"F0000001": fmt.Sprint("row", i), "F0000002": float64(i)})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			first = rec["id"].(string)
		}
	}
	bodies := map[string]string{
		"LoadBizObject":    `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"` + first + `"}`,
		"LoadBizObjects50": `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":"{\"FromRowNum\":0,\"ToRowNum\":50,\"Matcher\":{\"Type\":\"Item\",\"Name\":\"F0000002\",\"Operator\":1,\"Value\":0}}"}`,
	}
	plug := startPlugin(b, nil)
	for _, action := range []string{"LoadBizObject", "LoadBizObjects50"} {
		for _, mode := range []string{"inproc", "plugin", "plugin-reused"} {
			var c sdk.Connector = h3yun.New()
			if mode != "inproc" {
				c = plug
			}
			b.Run(action+"/"+mode, func(b *testing.B) {
				// The hub verified EngineCode/EngineSecret before the hop.
				p, err := mem.VerifyClient(ctx, engineCode, secret)
				if err != nil {
					b.Fatal(err)
				}
				req := &sdk.Request{Principal: p, Method: "POST", Path: "/OpenApi/Invoke", Route: "/OpenApi/Invoke", Body: []byte(bodies[action]),
					Headers: http.Header{"Enginecode": {engineCode}}, RequestID: "bench"}
				if mode == "plugin-reused" {
					// The store unchanged between requests: the answer is
					// reused (readcache.go), no call back to the host.
					req.StoreVersion = "bench-v1"
				}
				pid := 0
				if mode != "inproc" {
					pid = plug.pid
				}
				cpu := startCPU(pid)
				for b.Loop() {
					resp, err := c.Handle(ctx, req, mem)
					if err != nil || resp.Status != 200 {
						b.Fatalf("%v %v", resp, err)
					}
				}
				cpu.report(b)
			})
		}
		b.Run(action+"/direct", func(b *testing.B) {
			for b.Loop() {
				p, _ := mem.VerifyClient(ctx, engineCode, secret)
				_, _ = mem.GetForm(ctx, p, demoForm)
				if action == "LoadBizObject" {
					_, _ = mem.GetRecord(ctx, p, demoForm, first)
				} else {
					_, _ = mem.FindRecords(ctx, p, demoForm, sdk.Query{Limit: 50}, false)
				}
			}
		})
	}
}

// cpuClock measures the CPU time of this process and of a plugin process.
type cpuClock struct {
	pid          int
	self, plugin time.Duration
}

func startCPU(pid int) *cpuClock {
	c := &cpuClock{pid: pid}
	c.self, c.plugin = selfCPU(), procCPU(pid)
	return c
}

func (c *cpuClock) report(b *testing.B) {
	self, plugin := selfCPU()-c.self, procCPU(c.pid)-c.plugin
	n := float64(b.N)
	b.ReportMetric(float64((self+plugin).Microseconds())/n, "cpu-µs/op")
	if c.pid != 0 {
		b.ReportMetric(float64(plugin.Microseconds())/n, "plugin-cpu-µs/op")
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is utime+stime of pid from /proc (0 when pid is 0 or unknown).
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// fields 14 and 15 of the line, in clock ticks (100 per second).
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
