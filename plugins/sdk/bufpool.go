package sdk

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// bufferPool is the gRPC buffer pool of both ends of a plugin connection.
//
// grpc-go's default pool has tiers of 256 B, 4, 16 and 32 KiB and 1 MiB, and
// clears a buffer's whole capacity on every Get: each message between 32 KiB
// and 1 MiB — a 50-document FindRecords page, the H3Yun answer built from it
// — took a 1 MiB buffer and cleared all of it. That was 13% of the H3Yun
// connector process's CPU and 8% of the hub's on 50-row LoadBizObjects
// (profiles in docs/BENCHMARKS.md). This pool has a tier per power of two up
// to MaxMessageSize and clears only the length asked for. The transport
// uses it through the options below; grpc-go's proto codec always takes the
// default pool, so both ends use protoCodec, the same codec on this pool.
type bufferPool struct {
	tiers [maxTier + 1]sync.Pool
}

const (
	minTier = 8  // 256 B
	maxTier = 25 // 32 MiB = MaxMessageSize
)

var grpcBuffers mem.BufferPool = &bufferPool{}

// tier is the smallest power-of-two exponent whose buffer holds size bytes.
func tier(size int) int {
	if size <= 1<<minTier {
		return minTier
	}
	return bits.Len(uint(size - 1))
}

func (p *bufferPool) Get(size int) *[]byte {
	t := tier(size)
	if t > maxTier {
		b := make([]byte, size)
		return &b
	}
	if bp, ok := p.tiers[t].Get().(*[]byte); ok {
		b := (*bp)[:size]
		clear(b)
		*bp = b
		return bp
	}
	b := make([]byte, size, 1<<t)
	return &b
}

func (p *bufferPool) Put(bp *[]byte) {
	c := cap(*bp)
	if c < 1<<minTier {
		return
	}
	// A buffer serves the tier of the largest power of two it holds.
	t := bits.Len(uint(c)) - 1
	if t > maxTier {
		return
	}
	p.tiers[t].Put(bp)
}

// GRPCDialOptions are the dial options of a plugin connection, for either
// end: message size limits of MaxMessageSize and the plugin buffer pool.
// The hub passes them to go-plugin (ClientConfig.GRPCDialOptions); the SDK
// dials the Host API with them.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize),
			grpc.ForceCodecV2(protoCodec{})),
		experimental.WithBufferPool(grpcBuffers),
	}
}

// grpcServerOptions are the server options of either end (the connector's
// server, the Host API server on the hub's broker).
func grpcServerOptions(opts []grpc.ServerOption) []grpc.ServerOption {
	return append(opts, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))), experimental.BufferPool(grpcBuffers),
		grpc.ForceServerCodecV2(protoCodec{}))
}

// protoCodec is grpc-go's proto codec (encoding/proto) on grpcBuffers. Its
// name is "proto": the wire format and the content subtype are unchanged, so
// either end may use grpc-go's own codec.
type protoCodec struct{}

func (protoCodec) Name() string { return "proto" }

func (protoCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("proto: cannot marshal %T, want proto.Message", v)
	}
	size := proto.Size(m)
	if mem.IsBelowBufferPoolingThreshold(size) {
		b, err := proto.Marshal(m)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	bp := grpcBuffers.Get(size)
	if _, err := (proto.MarshalOptions{}).MarshalAppend((*bp)[:0], m); err != nil {
		grpcBuffers.Put(bp)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(bp, grpcBuffers)}, nil
}

func (protoCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("proto: cannot unmarshal into %T, want proto.Message", v)
	}
	buf := data.MaterializeToBuffer(grpcBuffers)
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}
