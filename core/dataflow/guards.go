package dataflow

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
)

// Builtins run as native Go code: the interpreter checks interrupts and the
// watchdogs only between its own steps, so one native call that builds a
// gigabyte string or loops over a 2^53-element array-like is never stopped.
// guards replaces every builtin that can allocate or loop in proportion to
// something other than an existing value's size with a Go wrapper that
// computes the result's size first and throws a RangeError above
// Limits.MaxString characters / Limits.MaxElements elements:
//
//   - Array.prototype.*: `this` may have at most MaxElements elements
//     (covers array-likes such as {length: 2**53}); concat, push, unshift,
//     splice, flat: the result too; join / toLocaleString: the joined
//     string, built here with the size known beforehand;
//   - String.prototype.*: `this` may have at most MaxString characters;
//     repeat, padStart, padEnd, concat, split: the result; replace,
//     replaceAll: every replacement goes through a counting function (a
//     replacement string's $-patterns are expanded here);
//   - RegExp.prototype[Symbol.match/matchAll/search/split]: the input string; [Symbol.replace]: the
//     result, as above; String.fromCharCode/fromCodePoint/raw: the result;
//   - JSON.stringify: the output, counted value by value through a
//     replacer before it is built, and its nesting; JSON.parse: the input;
//   - nesting of native recursion (join of nested arrays, stringify, flat):
//     Limits.CallStack levels.
//
// What stays unbounded inside one step is `+` / template literals and
// spread, which allocate at most the size of values that already exist;
// the heap watchdog bounds those across steps.
type guards struct {
	rt       *goja.Runtime
	l        Limits
	rangeErr goja.Constructor
	isArray  goja.Callable
	nest     int

	origStringify goja.Callable
}

// regexTimeout bounds one backtracking regular-expression match, the one
// native loop whose time is not proportional to its input's size. goja
// reports a timed-out match as "no match"; Limits.Eval (1 s by default)
// has then passed too, so the evaluation fails at its next step.
const regexTimeout = time.Second

func init() {
	regexp2.DefaultMatchTimeout = regexTimeout
}

func installGuards(rt *goja.Runtime, l Limits) (err error) {
	defer func() {
		if x := recover(); x != nil {
			err = fmt.Errorf("sandbox guards: %v", x)
		}
	}()
	g := &guards{rt: rt, l: l}
	var ok bool
	if g.rangeErr, ok = goja.AssertConstructor(rt.Get("RangeError")); !ok {
		return fmt.Errorf("sandbox: no RangeError")
	}
	arrayCtor := rt.Get("Array").ToObject(rt)
	if g.isArray, ok = goja.AssertFunction(arrayCtor.Get("isArray")); !ok {
		return fmt.Errorf("sandbox: no Array.isArray")
	}
	g.arrays(arrayCtor.Get("prototype").ToObject(rt))
	str := rt.Get("String").ToObject(rt)
	g.strings(str.Get("prototype").ToObject(rt))
	g.wrap(str, "fromCharCode", nil, func(c goja.FunctionCall) goja.FunctionCall {
		g.checkString(int64(len(c.Arguments)))
		return c
	})
	g.wrap(str, "fromCodePoint", nil, func(c goja.FunctionCall) goja.FunctionCall {
		g.checkString(int64(len(c.Arguments)))
		return c
	})
	g.wrap(str, "raw", nil, g.raw)
	g.regexps(rt.Get("RegExp").ToObject(rt).Get("prototype").ToObject(rt))
	js := rt.Get("JSON").ToObject(rt)
	g.wrap(js, "parse", nil, func(c goja.FunctionCall) goja.FunctionCall {
		g.checkString(g.strLen(c.Argument(0)))
		return c
	})
	if g.origStringify, ok = goja.AssertFunction(js.Get("stringify")); !ok {
		return fmt.Errorf("sandbox: no JSON.stringify")
	}
	g.replace(js, "stringify", nil, g.stringify)
	return nil
}

// throw raises a RangeError in the script.
func (g *guards) throw(format string, args ...any) {
	o, err := g.rangeErr(nil, g.rt.ToValue(fmt.Sprintf(format, args...)))
	if err != nil {
		panic(err)
	}
	panic(o)
}

func (g *guards) checkString(n int64) {
	if n > int64(g.l.MaxString) {
		g.throw("string exceeds the sandbox size limit (%d characters)", g.l.MaxString)
	}
}

func (g *guards) checkElements(n int64) {
	if n > int64(g.l.MaxElements) {
		g.throw("array exceeds the sandbox size limit (%d elements)", g.l.MaxElements)
	}
}

// enter counts one level of native recursion; the caller defers leave.
func (g *guards) enter() {
	g.nest++
	if g.nest > g.l.CallStack {
		g.nest--
		g.throw("nesting exceeds the sandbox limit (%d levels)", g.l.CallStack)
	}
}

func (g *guards) leave() { g.nest-- }

// lengthOf is ToLength(v.length) (0 for undefined/null: the builtin throws).
func (g *guards) lengthOf(v goja.Value) int64 {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0
	}
	n := v.ToObject(g.rt).Get("length")
	if n == nil {
		return 0
	}
	return toLength(n.ToFloat())
}

func toLength(f float64) int64 {
	switch {
	case math.IsNaN(f) || f <= 0:
		return 0
	case f >= 1<<53:
		return 1 << 53
	}
	return int64(f)
}

// str is ToString(v) as a goja string (objects' toString/valueOf run).
func (g *guards) str(v goja.Value) goja.String {
	if s, ok := v.(goja.String); ok {
		return s
	}
	if v == nil {
		v = goja.Undefined()
	}
	s, _ := g.rt.ToValue(v.String()).(goja.String)
	return s
}

// strLen is the length of ToString(v) (0 for undefined/null).
func (g *guards) strLen(v goja.Value) int64 {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0
	}
	if s := g.str(v); s != nil {
		return int64(s.Length())
	}
	return 0
}

// wrap replaces o[name] (or o[sym]) with a function that runs check and
// then the original with the arguments check returns.
func (g *guards) wrap(o *goja.Object, name string, sym *goja.Symbol, check func(goja.FunctionCall) goja.FunctionCall) {
	get := func() goja.Value {
		if sym != nil {
			return o.GetSymbol(sym)
		}
		return o.Get(name)
	}
	orig, ok := goja.AssertFunction(get())
	if !ok {
		panic(fmt.Sprintf("%s is not a function", name))
	}
	g.replace(o, name, sym, func(c goja.FunctionCall) goja.Value {
		c = check(c)
		r, err := orig(c.This, c.Arguments...)
		if err != nil {
			panic(err)
		}
		return r
	})
}

// replace defines o[name] (or o[sym]) as fn, read-only and
// non-configurable, so scripts cannot reach the original.
func (g *guards) replace(o *goja.Object, name string, sym any, fn any) {
	var f func(goja.FunctionCall) goja.Value
	switch x := fn.(type) {
	case func(goja.FunctionCall) goja.Value:
		f = x
	default:
		panic("bad guard")
	}
	v := g.rt.ToValue(f)
	var err error
	if s, ok := sym.(*goja.Symbol); ok && s != nil {
		err = o.DefineDataPropertySymbol(s, v, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	} else {
		err = o.DefineDataProperty(name, v, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	}
	if err != nil {
		panic(err)
	}
}

func (g *guards) arrays(proto *goja.Object) {
	special := map[string]func(goja.FunctionCall) goja.FunctionCall{
		"concat": func(c goja.FunctionCall) goja.FunctionCall {
			n := g.spreadLen(c.This)
			for _, a := range c.Arguments {
				n += g.spreadLen(a)
				g.checkElements(n)
			}
			return c
		},
		"push":    g.growBy(0),
		"unshift": g.growBy(0),
		"splice":  g.growBy(2),
		"flat": func(c goja.FunctionCall) goja.FunctionCall {
			depth := 1.0
			if d := c.Argument(0); !goja.IsUndefined(d) {
				depth = d.ToFloat()
			}
			n := int64(0)
			g.countFlat(c.This, depth, &n)
			return c
		},
	}
	for _, name := range proto.GetOwnPropertyNames() {
		if name == "constructor" || name == "join" || name == "toLocaleString" || name == "toString" {
			continue
		}
		if _, ok := goja.AssertFunction(proto.Get(name)); !ok {
			continue
		}
		extra := special[name]
		g.wrap(proto, name, nil, func(c goja.FunctionCall) goja.FunctionCall {
			g.checkElements(g.lengthOf(c.This))
			if extra != nil {
				return extra(c)
			}
			return c
		})
	}
	g.replace(proto, "join", nil, func(c goja.FunctionCall) goja.Value { return g.join(c, false) })
	g.replace(proto, "toLocaleString", nil, func(c goja.FunctionCall) goja.Value { return g.join(goja.FunctionCall{This: c.This}, true) })
	// toString calls this.join, which is the function above.
	g.wrap(proto, "toString", nil, func(c goja.FunctionCall) goja.FunctionCall {
		g.enter()
		defer g.leave()
		return c
	})
}

// growBy checks that a push/unshift/splice result stays within MaxElements
// (fixed = the leading non-element arguments).
func (g *guards) growBy(fixed int) func(goja.FunctionCall) goja.FunctionCall {
	return func(c goja.FunctionCall) goja.FunctionCall {
		g.checkElements(g.lengthOf(c.This) + int64(max(len(c.Arguments)-fixed, 0)))
		return c
	}
}

// spreadLen is how many elements v adds to a concat.
func (g *guards) spreadLen(v goja.Value) int64 {
	if o, ok := v.(*goja.Object); ok {
		spread := o.GetSymbol(goja.SymIsConcatSpreadable)
		isArr, _ := g.isArray(goja.Undefined(), o)
		if (spread != nil && !goja.IsUndefined(spread) && spread.ToBoolean()) || (isArr != nil && isArr.ToBoolean()) {
			return g.lengthOf(o)
		}
	}
	return 1
}

// countFlat counts the elements flat(depth) would produce, throwing above
// MaxElements or CallStack levels.
func (g *guards) countFlat(v goja.Value, depth float64, n *int64) {
	o := v.ToObject(g.rt)
	l := g.lengthOf(o)
	g.checkElements(l)
	g.enter()
	defer g.leave()
	for i := int64(0); i < l; i++ {
		e := o.Get(strconv.FormatInt(i, 10))
		if depth >= 1 {
			if eo, ok := e.(*goja.Object); ok {
				if isArr, _ := g.isArray(goja.Undefined(), eo); isArr != nil && isArr.ToBoolean() {
					g.countFlat(eo, depth-1, n)
					continue
				}
			}
		}
		*n++
		g.checkElements(*n)
	}
}

// join is Array.prototype.join (and toLocaleString): the parts are
// converted and measured first, then copied once.
func (g *guards) join(c goja.FunctionCall, locale bool) goja.Value {
	o := c.This.ToObject(g.rt)
	n := g.lengthOf(o)
	g.checkElements(n)
	g.enter()
	defer g.leave()
	var sep goja.String
	if s := c.Argument(0); !goja.IsUndefined(s) {
		sep = g.str(s)
	} else {
		sep = g.str(g.rt.ToValue(","))
	}
	total := int64(sep.Length()) * max(n-1, 0)
	g.checkString(total)
	parts := make([]goja.String, n)
	for i := int64(0); i < n; i++ {
		e := o.Get(strconv.FormatInt(i, 10))
		if e == nil || goja.IsUndefined(e) || goja.IsNull(e) {
			continue
		}
		if locale {
			eo := e.ToObject(g.rt)
			fn, ok := goja.AssertFunction(eo.Get("toLocaleString"))
			if !ok {
				panic(g.rt.NewTypeError("toLocaleString is not a function"))
			}
			r, err := fn(e)
			if err != nil {
				panic(err)
			}
			e = r
		}
		parts[i] = g.str(e)
		total += int64(parts[i].Length())
		g.checkString(total)
	}
	var b goja.StringBuilder
	b.Grow(int(total))
	for i, p := range parts {
		if i > 0 {
			b.WriteString(sep)
		}
		if p != nil {
			b.WriteString(p)
		}
	}
	return b.String()
}

func (g *guards) strings(proto *goja.Object) {
	special := map[string]func(goja.FunctionCall) goja.FunctionCall{
		"repeat": func(c goja.FunctionCall) goja.FunctionCall {
			if k := c.Argument(0).ToFloat(); k > 0 && !math.IsInf(k, 1) {
				if float64(g.strLen(c.This))*k > float64(g.l.MaxString) {
					g.checkString(math.MaxInt64)
				}
			}
			return c
		},
		"padStart": g.pad,
		"padEnd":   g.pad,
		"concat": func(c goja.FunctionCall) goja.FunctionCall {
			n := g.strLen(c.This)
			args := make([]goja.Value, len(c.Arguments))
			for i, a := range c.Arguments {
				s := g.str(a)
				n += int64(s.Length())
				g.checkString(n)
				args[i] = s
			}
			c.Arguments = args
			return c
		},
		"replace":    g.replaceArgs,
		"replaceAll": g.replaceArgs,
		"split": func(c goja.FunctionCall) goja.FunctionCall {
			if goja.IsUndefined(c.Argument(1)) {
				// ask for one element more than allowed: the check after
				// the call cannot be reached without a bounded allocation.
				c.Arguments = []goja.Value{c.Argument(0), g.rt.ToValue(g.l.MaxElements + 1)}
			}
			return c
		},
	}
	for _, name := range proto.GetOwnPropertyNames() {
		// toString/valueOf return the string itself (and ToString of a
		// String object calls them: measuring there would recurse).
		if name == "constructor" || name == "toString" || name == "valueOf" {
			continue
		}
		if _, ok := goja.AssertFunction(proto.Get(name)); !ok {
			continue
		}
		extra := special[name]
		if name == "split" {
			g.wrapSplit(proto, extra)
			continue
		}
		g.wrap(proto, name, nil, func(c goja.FunctionCall) goja.FunctionCall {
			g.checkString(g.strLen(c.This))
			if extra != nil {
				return extra(c)
			}
			return c
		})
	}
}

func (g *guards) wrapSplit(proto *goja.Object, pre func(goja.FunctionCall) goja.FunctionCall) {
	orig, _ := goja.AssertFunction(proto.Get("split"))
	g.replace(proto, "split", nil, func(c goja.FunctionCall) goja.Value {
		g.checkString(g.strLen(c.This))
		c = pre(c)
		r, err := orig(c.This, c.Arguments...)
		if err != nil {
			panic(err)
		}
		g.checkElements(g.lengthOf(r))
		return r
	})
}

func (g *guards) pad(c goja.FunctionCall) goja.FunctionCall {
	if n := c.Argument(0).ToFloat(); n > float64(g.l.MaxString) {
		g.checkString(math.MaxInt64)
	}
	return c
}

func (g *guards) raw(c goja.FunctionCall) goja.FunctionCall {
	raw := c.Argument(0).ToObject(g.rt).Get("raw")
	if raw == nil {
		return c
	}
	n := g.lengthOf(raw)
	g.checkElements(n)
	ro := raw.ToObject(g.rt)
	total := int64(0)
	for i := int64(0); i < n; i++ {
		total += g.strLen(ro.Get(strconv.FormatInt(i, 10)))
		if i+1 < n && int(i+1) < len(c.Arguments) {
			total += g.strLen(c.Arguments[i+1])
		}
		g.checkString(total)
	}
	return c
}

func (g *guards) regexps(proto *goja.Object) {
	input := func(c goja.FunctionCall) goja.FunctionCall {
		g.checkString(g.strLen(c.Argument(0)))
		return c
	}
	// exec is left alone: replacing it would switch goja's regular
	// expressions to the slow, allocation-heavy path (one match object per
	// match); it returns one match, bounded by its input.
	for _, sym := range []*goja.Symbol{goja.SymMatch, goja.SymMatchAll, goja.SymSearch, goja.SymSplit} {
		g.wrap(proto, "", sym, input)
	}
	g.wrap(proto, "", goja.SymReplace, func(c goja.FunctionCall) goja.FunctionCall {
		g.checkString(g.strLen(c.Argument(0)))
		s := g.str(c.Argument(0))
		c.Arguments = []goja.Value{s, g.boundedReplacer(s, c.Argument(1))}
		return c
	})
}

// replaceArgs bounds String.prototype.replace/replaceAll: the replacement
// becomes a counting function (a RegExp pattern reaches the guarded
// [Symbol.replace], which does the same).
func (g *guards) replaceArgs(c goja.FunctionCall) goja.FunctionCall {
	s := g.str(c.This)
	c.Arguments = []goja.Value{c.Argument(0), g.boundedReplacer(s, c.Argument(1))}
	return c
}

// boundedReplacer returns a replacement function equivalent to repl (a
// function, or a string with $-patterns) that throws once the replaced
// result of s would exceed MaxString.
func (g *guards) boundedReplacer(s goja.String, repl goja.Value) goja.Value {
	total := int64(s.Length())
	count := func(r goja.String) goja.Value {
		total += int64(r.Length())
		g.checkString(total)
		return r
	}
	if fn, ok := goja.AssertFunction(repl); ok {
		return g.rt.ToValue(func(c goja.FunctionCall) goja.Value {
			r, err := fn(c.This, c.Arguments...)
			if err != nil {
				panic(err)
			}
			return count(g.str(r))
		})
	}
	tmpl := g.str(repl)
	return g.rt.ToValue(func(c goja.FunctionCall) goja.Value {
		return count(g.substitute(tmpl, c.Arguments))
	})
}

// substitute is GetSubstitution (ECMA-262 §22.1.3.19.1) for a replacement
// function's arguments: (matched, captures..., position, string[, groups]).
func (g *guards) substitute(tmpl goja.String, args []goja.Value) goja.String {
	n := tmpl.Length()
	var b goja.StringBuilder
	if len(args) < 3 {
		return tmpl
	}
	var groups goja.Value
	if _, isStr := args[len(args)-1].(goja.String); !isStr {
		groups, args = args[len(args)-1], args[:len(args)-1]
	}
	matched := g.str(args[0])
	str := g.str(args[len(args)-1])
	pos := int(args[len(args)-2].ToInteger())
	caps := args[1 : len(args)-2]
	capStr := func(i int) goja.String {
		v := caps[i]
		if v == nil || goja.IsUndefined(v) {
			return g.str(g.rt.ToValue(""))
		}
		return g.str(v)
	}
	digit := func(i int) int {
		if i < n {
			if c := tmpl.CharAt(i); c >= '0' && c <= '9' {
				return int(c - '0')
			}
		}
		return -1
	}
	start := 0
	for i := 0; i < n; i++ {
		if tmpl.CharAt(i) != '$' || i+1 >= n {
			continue
		}
		c := tmpl.CharAt(i + 1)
		var piece goja.String
		skip := 2
		switch {
		case c == '$':
			piece = g.str(g.rt.ToValue("$"))
		case c == '&':
			piece = matched
		case c == '`':
			piece = str.Substring(0, min(max(pos, 0), str.Length()))
		case c == '\'':
			piece = str.Substring(min(max(pos, 0)+matched.Length(), str.Length()), str.Length())
		case c >= '0' && c <= '9':
			d1 := int(c - '0')
			if d2 := digit(i + 2); d2 >= 0 && d1*10+d2 >= 1 && d1*10+d2 <= len(caps) {
				piece, skip = capStr(d1*10+d2-1), 3
			} else if d1 >= 1 && d1 <= len(caps) {
				piece = capStr(d1 - 1)
			}
		case c == '<' && groups != nil && !goja.IsUndefined(groups):
			for j := i + 2; j < n; j++ {
				if tmpl.CharAt(j) == '>' {
					v := groups.ToObject(g.rt).Get(tmpl.Substring(i+2, j).String())
					if v == nil || goja.IsUndefined(v) {
						piece = g.str(g.rt.ToValue(""))
					} else {
						piece = g.str(v)
					}
					skip = j - i + 1
					break
				}
			}
		}
		if piece == nil {
			continue
		}
		b.WriteSubstring(tmpl, start, i)
		b.WriteString(piece)
		start = i + skip
		i += skip - 1
	}
	b.WriteSubstring(tmpl, start, n)
	return b.String()
}

// stringify is JSON.stringify with its output counted before it is built:
// a replacer (composed with the caller's) adds up every key and value the
// serialiser visits and throws above MaxString or CallStack levels.
func (g *guards) stringify(c goja.FunctionCall) goja.Value {
	orig := g.origStringify
	gap := int64(0)
	switch sp := c.Argument(2).(type) {
	case goja.String:
		gap = int64(min(sp.Length(), 10))
	default:
		if sp != nil && !goja.IsUndefined(sp) && !goja.IsNull(sp) {
			if _, isObj := sp.(*goja.Object); !isObj {
				gap = int64(min(max(sp.ToFloat(), 0), 10))
			}
		}
	}
	depth := map[*goja.Object]int64{}
	total := int64(0)
	userFn, hasFn := goja.AssertFunction(c.Argument(1))
	counter := g.rt.ToValue(func(cc goja.FunctionCall) goja.Value {
		v := cc.Argument(1)
		if hasFn {
			r, err := userFn(cc.This, cc.Arguments...)
			if err != nil {
				panic(err)
			}
			v = r
		}
		d := int64(0)
		if h, ok := cc.This.(*goja.Object); ok {
			d = depth[h]
		}
		total += g.strLen(cc.Argument(0)) + 4 + gap*(d+1)
		switch x := v.(type) {
		case goja.String:
			total += int64(x.Length()) + 2
		case *goja.Object:
			if cl := x.ClassName(); cl == "String" || cl == "Number" || cl == "Boolean" {
				total += g.strLen(x) + 2
			} else if _, isFn := goja.AssertFunction(x); !isFn {
				if d+1 > int64(g.l.CallStack) {
					g.throw("nesting exceeds the sandbox limit (%d levels)", g.l.CallStack)
				}
				depth[x] = d + 1
				total += 2 + gap*d
			}
		default:
			total += 24
		}
		g.checkString(total)
		return v
	})
	if !hasFn && c.Argument(1) != nil && !goja.IsUndefined(c.Argument(1)) && !goja.IsNull(c.Argument(1)) {
		// a property list: count first (an upper bound), then serialise.
		if _, err := orig(goja.Undefined(), c.Argument(0), counter, c.Argument(2)); err != nil {
			panic(err)
		}
		r, err := orig(goja.Undefined(), c.Arguments...)
		if err != nil {
			panic(err)
		}
		return r
	}
	r, err := orig(goja.Undefined(), c.Argument(0), counter, c.Argument(2))
	if err != nil {
		panic(err)
	}
	return r
}
