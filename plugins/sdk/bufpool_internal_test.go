package sdk

import (
	"bytes"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/eimshub/eimshub/plugins/proto"
)

func TestBufferPoolTiers(t *testing.T) {
	p := &bufferPool{}
	for _, c := range []struct{ size, wantCap int }{
		{0, 256}, {1, 256}, {256, 256}, {257, 512}, {40 << 10, 64 << 10}, {1 << 20, 1 << 20},
		{MaxMessageSize, MaxMessageSize}, {MaxMessageSize + 1, MaxMessageSize + 1},
	} {
		bp := p.Get(c.size)
		if len(*bp) != c.size || cap(*bp) != c.wantCap {
			t.Errorf("Get(%d): len %d cap %d, want len %d cap %d", c.size, len(*bp), cap(*bp), c.size, c.wantCap)
		}
		p.Put(bp)
	}
}

// A reused buffer comes back cleared over the length asked for, never
// shorter than asked, and buffers of odd capacities serve the tier below.
func TestBufferPoolReuse(t *testing.T) {
	p := &bufferPool{}
	bp := p.Get(3000)
	for i := range *bp {
		(*bp)[i] = 0xff
	}
	p.Put(bp)
	for range 100 { // sync.Pool may drop items; the invariants hold either way
		got := p.Get(2500)
		if len(*got) != 2500 || cap(*got) < 2500 || bytes.IndexByte(*got, 0xff) >= 0 {
			t.Fatalf("Get(2500) after reuse: len %d cap %d dirty %v", len(*got), cap(*got), bytes.IndexByte(*got, 0xff) >= 0)
		}
		p.Put(got)
	}
	odd := make([]byte, 10, 3000) // serves tier 2048, never 4096
	p.Put(&odd)
	for range 10 {
		got := p.Get(4000)
		if cap(*got) < 4000 {
			t.Fatalf("Get(4000) returned cap %d", cap(*got))
		}
	}
	small := make([]byte, 10)
	p.Put(&small) // below the smallest tier: dropped, no panic
}

// protoCodec speaks grpc-go's proto wire format, pooled or not.
func TestProtoCodecRoundTrip(t *testing.T) {
	big := &pb.DocsResponse{Total: 7}
	for range 200 {
		big.Docs = append(big.Docs, bytes.Repeat([]byte("x"), 500))
	}
	for _, m := range []*pb.DocsResponse{{Total: 1}, big} {
		data, err := protoCodec{}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		std, _ := proto.Marshal(m)
		if !bytes.Equal(data.Materialize(), std) {
			t.Fatalf("marshal differs from proto.Marshal (%d docs)", len(m.Docs))
		}
		var back pb.DocsResponse
		if err := (protoCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(std)}, &back); err != nil || !proto.Equal(&back, m) {
			t.Fatalf("unmarshal: %v", err)
		}
		data.Free()
	}
	if _, err := (protoCodec{}).Marshal("not a message"); err == nil {
		t.Fatal("marshal of a non-message succeeded")
	}
}
