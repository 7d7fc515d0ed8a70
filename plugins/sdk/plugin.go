package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	pb "github.com/eimshub/eimshub/plugins/proto"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ProtocolVersion is the version of the plugin contract (plugins/proto).
// Bump it on any incompatible change; a host and a plugin that disagree
// refuse each other at the handshake with a clear error.
//
// Version 2 (Host API v2) added read options (expand, form with the page),
// the generic entity calls, the workflow actions and task lists, and
// aliases. Its wire format only adds fields and RPCs, so a v2 host still
// serves v1 plugins (MinProtocolVersion); a v2 plugin refuses a v1 host,
// which lacks the calls it may make.
const ProtocolVersion = 2

// MinProtocolVersion is the oldest plugin contract a host still serves.
const MinProtocolVersion = 1

// PluginName is the go-plugin plugin-set key of a connector.
const PluginName = "connector"

// Handshake is the go-plugin handshake shared by the hub and every plugin.
// The magic cookie is a UX guard (running a plugin binary by hand prints a
// hint), not a security measure: binaries are verified by checksum.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "EIMSHUB_PLUGIN",
	MagicCookieValue: "8f1d5b7e-connector-v1-3c0a9e42",
}

// MaxMessageSize bounds one gRPC message (request or response body plus
// envelope) in both directions. Default gRPC is 4 MiB.
const MaxMessageSize = 32 << 20

// PluginSets returns the go-plugin plugin sets keyed by protocol version, for
// a ClientConfig (host side: host set) or a ServeConfig (plugin side: newFn
// set). Connector authors do not need it.
//
// The host side (p.Host set) offers every version from MinProtocolVersion
// to ProtocolVersion; the plugin side only ProtocolVersion.
func PluginSets(p *GRPCPlugin) map[int]plugin.PluginSet {
	sets := map[int]plugin.PluginSet{ProtocolVersion: {PluginName: p}}
	if p != nil && p.Host != nil {
		for v := MinProtocolVersion; v < ProtocolVersion; v++ {
			sets[v] = plugin.PluginSet{PluginName: p}
		}
	}
	return sets
}

// GRPCPlugin is the go-plugin glue for a connector. On the plugin side New
// builds the connector; on the host side Host is the Host API served back to
// the plugin. Connector authors do not need it.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// New builds the connector (plugin side).
	New func() Connector
	// Host is the Host API (host side).
	Host Host
}

// GRPCServer registers the connector service (plugin side).
func (p *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	if p.New == nil {
		return fmt.Errorf("sdk: GRPCPlugin.New is nil")
	}
	pb.RegisterConnectorServer(s, &connectorServer{impl: p.New(), broker: broker})
	return nil
}

// GRPCClient returns a *RemoteConnector (host side).
func (p *GRPCPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &RemoteConnector{client: pb.NewConnectorClient(c), broker: broker, host: p.Host}, nil
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// ---- plugin side ----

type connectorServer struct {
	pb.UnimplementedConnectorServer
	impl   Connector
	broker *plugin.GRPCBroker

	mu   sync.RWMutex
	host Host
	// hostID is the broker id host was dialled at: a later Configure
	// with the same id (a reconfiguration) keeps the connection.
	hostID uint32
}

func (s *connectorServer) Describe(context.Context, *pb.Empty) (*pb.Info, error) {
	return ToProto().Info(s.impl.Info()), nil
}

func (s *connectorServer) Configure(_ context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResult, error) {
	s.mu.RLock()
	connected := s.host != nil && s.hostID == req.HostBrokerId
	s.mu.RUnlock()
	// The host serves its API once per process at one broker id: a
	// reconfiguration keeps the connection (the broker accepts one dial).
	if !connected {
		conn, err := s.broker.DialWithOptions(req.HostBrokerId, GRPCDialOptions()...)
		if err != nil {
			return &pb.ConfigureResult{Error: ToProto().Error(errs.Wrap(errs.Unavailable, err, "dial the host API"), pb.Source_SOURCE_PLUGIN)}, nil
		}
		s.mu.Lock()
		s.host, s.hostID = &hostClient{c: pb.NewHostClient(conn)}, req.HostBrokerId
		s.mu.Unlock()
	}
	if c, ok := s.impl.(Configurer); ok {
		if err := c.Configure(req.Config); err != nil {
			return &pb.ConfigureResult{Error: ToProto().Error(err, pb.Source_SOURCE_PLUGIN)}, nil
		}
	}
	return &pb.ConfigureResult{}, nil
}

func (s *connectorServer) Handle(ctx context.Context, req *pb.HTTPRequest) (*pb.HandleResult, error) {
	s.mu.RLock()
	h := s.host
	s.mu.RUnlock()
	if h == nil {
		return &pb.HandleResult{Error: ToProto().Error(errs.New(errs.Unavailable, "connector not configured"), pb.Source_SOURCE_PLUGIN)}, nil
	}
	resp, err := SafeHandle(ctx, s.impl, FromProto().Request(req), h)
	if err != nil {
		return &pb.HandleResult{Error: ToProto().Error(err, pb.Source_SOURCE_PLUGIN)}, nil
	}
	return &pb.HandleResult{Response: ToProto().Response(resp)}, nil
}

func (s *connectorServer) Health(ctx context.Context, _ *pb.Empty) (*pb.HealthResult, error) {
	if hc, ok := s.impl.(HealthChecker); ok {
		if err := hc.Health(ctx); err != nil {
			return &pb.HealthResult{Ok: false, Message: err.Error()}, nil
		}
	}
	return &pb.HealthResult{Ok: true}, nil
}

// HealthChecker is implemented by connectors that can tell whether they are
// healthy beyond answering at all (e.g. a downstream they depend on).
type HealthChecker interface {
	Health(ctx context.Context) error
}

// SafeHandle calls c.Handle, turning a panic into an Internal error (logged
// with its stack) and a nil response into 204. Both modes use it, so a
// panicking connector answers the same in-process and out of process.
func SafeHandle(ctx context.Context, c Connector, req *Request, h Host) (resp *Response, err error) {
	defer func() {
		if r := recover(); r != nil {
			slog.ErrorContext(ctx, "connector panic", "connector", c.Info().ID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()), "request_id", req.RequestID)
			resp, err = nil, errs.New(errs.Internal, "internal error").WithReason("connector_panic")
		}
	}()
	resp, err = c.Handle(ctx, req, h)
	if err == nil && resp == nil {
		resp = &Response{Status: 204}
	}
	if resp != nil && resp.Status == 0 {
		resp.Status = 200
	}
	return resp, err
}

// ---- host side ----

// RemoteConnector is a connector running in a plugin process, as the host
// sees it. Connector authors do not need it.
type RemoteConnector struct {
	client pb.ConnectorClient
	broker *plugin.GRPCBroker
	host   Host
	once   sync.Once
	hostID uint32
}

// Describe asks the plugin for its Info.
func (r *RemoteConnector) Describe(ctx context.Context) (Info, error) {
	pi, err := r.client.Describe(ctx, &pb.Empty{})
	if err != nil {
		return Info{}, TransportError(err)
	}
	return FromProto().Info(pi)
}

// Configure serves the Host API to the plugin over the broker (once per
// process) and passes the connector its raw configuration.
func (r *RemoteConnector) Configure(ctx context.Context, raw []byte) error {
	if r.host == nil {
		return errs.New(errs.Internal, "sdk: RemoteConnector has no Host")
	}
	r.once.Do(func() {
		r.hostID = r.broker.NextId()
		go r.broker.AcceptAndServe(r.hostID, func(opts []grpc.ServerOption) *grpc.Server {
			s := grpc.NewServer(grpcServerOptions(opts)...)
			pb.RegisterHostServer(s, &hostServer{h: r.host})
			return s
		})
	})
	res, err := r.client.Configure(ctx, &pb.ConfigureRequest{HostBrokerId: r.hostID, Config: raw})
	if err != nil {
		return TransportError(err)
	}
	return FromProto().ErrorOrNil(res.Error)
}

// Handle sends one request to the plugin: one round trip.
func (r *RemoteConnector) Handle(ctx context.Context, req *Request) (*Response, error) {
	res, err := r.client.Handle(ctx, ToProto().Request(req))
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		e := FromProto().Error(res.Error)
		if e.Code == errs.Unavailable && pastDeadline(ctx) {
			// The plugin gave up at its deadline (gRPC's timeout header can
			// make it a little earlier than ours): report the timeout.
			return nil, TransportError(context.DeadlineExceeded)
		}
		return nil, e
	}
	if res.Response == nil {
		return nil, errs.New(errs.Internal, "connector returned neither a response nor an error").WithReason("connector_protocol")
	}
	return FromProto().Response(res.Response), nil
}

// Health asks the plugin whether it is healthy.
func (r *RemoteConnector) Health(ctx context.Context) error {
	res, err := r.client.Health(ctx, &pb.Empty{})
	if err != nil {
		return TransportError(err)
	}
	if !res.Ok {
		return errs.Newf(errs.Unavailable, "connector unhealthy: %s", res.Message).WithReason("connector_unhealthy")
	}
	return nil
}

// Reasons of the errors a dead, slow or busy plugin produces.
const (
	ReasonTimeout     = "connector_timeout"
	ReasonUnavailable = "connector_unavailable"
	ReasonBusy        = "connector_busy"
)

// TransportError maps a gRPC transport failure (the plugin died, timed out,
// the call was canceled) to an *errs.Error with Code Unavailable. The cause
// is kept for logs; the message is safe for callers.
func TransportError(err error) error {
	switch status.Code(err) {
	case codes.DeadlineExceeded:
		return errs.Wrap(errs.Unavailable, err, "the connector did not answer in time").WithReason(ReasonTimeout)
	case codes.Canceled:
		return errs.Wrap(errs.Unavailable, err, "the request was canceled").WithReason(ReasonUnavailable)
	}
	if ctxErr := contextError(err); ctxErr != nil {
		return ctxErr
	}
	return errs.Wrap(errs.Unavailable, err, "the connector is not available").WithReason(ReasonUnavailable)
}

func contextError(err error) error {
	if err == context.DeadlineExceeded {
		return errs.Wrap(errs.Unavailable, err, "the connector did not answer in time").WithReason(ReasonTimeout)
	}
	return nil
}

// deadlineSlack absorbs the difference between the host's deadline and the
// one gRPC hands the plugin.
const deadlineSlack = 10 * time.Millisecond

func pastDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < deadlineSlack
}
