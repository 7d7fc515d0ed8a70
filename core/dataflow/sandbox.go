package dataflow

import (
	"fmt"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// What the sandbox bounds (spec §5.1, §8):
//
//   - time: each evaluation (one script node, records calls included) is
//     interrupted after Limits.Eval (1 s), the whole run after Limits.Run
//     (30 s) or when the request context ends;
//   - stack: Limits.CallStack nested JavaScript calls;
//   - size: scripts ≤ 64 KiB, inputData and every node result (JSON) ≤
//     Limits.IO, at most Limits.FindLimit records per find and
//     Limits.RecordCalls records calls per run;
//   - memory: the builtins that allocate in one native call without
//     returning to the interpreter (String.prototype.repeat/padStart/padEnd,
//     Array.prototype.fill/join, the Array constructor's length) refuse
//     results above Limits.MaxString characters / Limits.MaxElements
//     elements; ArrayBuffer, SharedArrayBuffer, DataView and typed arrays are
//     removed; and a watchdog samples the Go heap while a script runs and
//     interrupts it when the heap grew by more than Limits.HeapGrowth since
//     the evaluation began. The heap is shared by the process, so this is a
//     coarse bound (concurrent runs count against each other), not an
//     accounting per run.
//   - reach: the global object holds only ECMAScript built-ins; there is no
//     require, module loader, timers, console, network or file access, and
//     eval is removed. Values cross the boundary as JSON (no host objects);
//     records functions are Go functions scoped to the operator's tenant.

// Limits of the sandbox.
type Limits struct {
	Eval        time.Duration // per evaluation; default 1s
	Run         time.Duration // per run; default 30s
	CallStack   int           // default 256
	IO          int           // bytes of JSON in and out; default 1 MiB
	FindLimit   int           // max records per find; default 1000
	RecordCalls int           // max records calls per run; default 10000
	MaxString   int           // characters; default 1<<20
	MaxElements int           // array elements; default 1<<20
	HeapGrowth  uint64        // bytes; default 256 MiB
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.Eval <= 0 {
		l.Eval = time.Second
	}
	if l.Run <= 0 {
		l.Run = 30 * time.Second
	}
	def(&l.CallStack, 256)
	def(&l.IO, 1<<20)
	def(&l.FindLimit, 1000)
	def(&l.RecordCalls, 10000)
	def(&l.MaxString, 1<<20)
	def(&l.MaxElements, 1<<20)
	if l.HeapGrowth == 0 {
		l.HeapGrowth = 256 << 20
	}
	return l
}

// removedGlobals are deleted from every runtime.
var removedGlobals = []string{"eval", "ArrayBuffer", "SharedArrayBuffer", "DataView", "Int8Array", "Uint8Array",
	"Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array",
	"Float64Array", "BigInt64Array", "BigUint64Array", "WeakRef", "FinalizationRegistry", "Atomics",
	"require", "process", "console", "setTimeout", "setInterval", "setImmediate", "queueMicrotask"}

// guardSrc replaces the Array constructor (a length argument) and
// Array.from; every other allocating builtin is guarded in Go (guards.go).
const guardSrc = `(function (MAXS, MAXE) {
  "use strict";
  var dp = Object.defineProperty;
  function len(o) { var n = Number(o == null ? 0 : o.length); return n > 0 ? n : 0; }
  function tooBig() { throw new RangeError("array exceeds the sandbox size limit (" + MAXE + " elements)"); }
  var A = Array;
  var G = function Array() {
    if (arguments.length === 1 && typeof arguments[0] === "number" && arguments[0] > MAXE) tooBig();
    return A.apply(null, arguments);
  };
  G.prototype = A.prototype;
  G.isArray = A.isArray; G.of = A.of;
  G.from = function (x) { if (x != null && len(x) > MAXE) tooBig(); return A.from.apply(A, arguments); };
  dp(A.prototype, "constructor", {value: G, writable: false, enumerable: false, configurable: false});
  dp(globalThis, "Array", {value: G, writable: false, enumerable: false, configurable: false});
})`

var guardProg = goja.MustCompile("sandbox", guardSrc, true)

// newRuntime returns a locked-down runtime.
func newRuntime(l Limits) (*goja.Runtime, error) {
	rt := goja.New()
	rt.SetMaxCallStackSize(l.CallStack)
	g := rt.GlobalObject()
	for _, name := range removedGlobals {
		if err := g.Delete(name); err != nil {
			return nil, err
		}
	}
	v, err := rt.RunProgram(guardProg)
	if err != nil {
		return nil, err
	}
	fn, _ := goja.AssertFunction(v)
	if _, err := fn(goja.Undefined(), rt.ToValue(l.MaxString), rt.ToValue(l.MaxElements)); err != nil {
		return nil, err
	}
	if err := installGuards(rt, l); err != nil {
		return nil, err
	}
	return rt, nil
}

// evalLimit is why an evaluation was interrupted.
type evalLimit struct{ msg string }

func (e *evalLimit) Error() string { return e.msg }

// guard runs fn with the per-evaluation time limit and the heap watchdog.
func guard(rt *goja.Runtime, l Limits, what string, fn func() (goja.Value, error)) (goja.Value, error) {
	timer := time.AfterFunc(l.Eval, func() {
		rt.Interrupt(&evalLimit{fmt.Sprintf("%s: evaluation exceeded %s", what, l.Eval)})
	})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		watchHeap(rt, l, what, stop)
	}()
	v, err := fn()
	timer.Stop()
	close(stop)
	wg.Wait()
	return v, err
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func watchHeap(rt *goja.Runtime, l Limits, what string, stop <-chan struct{}) {
	base := heapBytes()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if h := heapBytes(); h > base+l.HeapGrowth {
				rt.Interrupt(&evalLimit{fmt.Sprintf("%s: memory limit exceeded (heap grew by more than %d MiB)", what, l.HeapGrowth>>20)})
				return
			}
		}
	}
}
