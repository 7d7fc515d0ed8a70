package sdk

import pb "github.com/eimshub/eimshub/plugins/proto"

// The Host API's two wire ends, for tests that put their own gRPC
// connection (and interceptors) between them.
func NewHostServerForTest(h Host) pb.HostServer { return &hostServer{h: h} }
func NewHostClientForTest(c pb.HostClient) Host { return &hostClient{c: c} }

// The two decoders of ConvertFromProto.Doc.
func DecodeDocFast(b []byte) (map[string]any, bool) { return decodeDocFast(b) }
func DecodeDocStd(b []byte) (Doc, error)            { return decodeDocStd(b) }
