#pragma once
// The control socket's vocabulary: one request struct per command and the reply it gets. ternd's
// socket handler decodes a line into one of these and calls the operator core with it
// (control/operator.hpp); ternctl builds the same structs and decodes the same replies, through
// the one codec (api/codec.hpp).
//
// Every struct lists its fields once, in `fields(self, visit)`: `visit(name, member)`. The codec
// walks that list to write and to read JSON, so a field added here is on the wire in both
// directions. A std::optional member may be absent; every other member is required. Addresses
// travel as text ("192.0.2.1", "192.0.2.1:3478", "[2001:db8::1]:3478").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "conf/net.hpp"

namespace tern::ctl::api {

// An IP address with or without a port: `allocations --client 192.0.2.1` or `192.0.2.1:5000`.
struct Endpoint {
  IpAddress ip = {};
  std::optional<Port> port = {};

  static std::optional<Endpoint> parse(std::string_view text);
  std::string to_string() const;
};

// Counters as name -> value, in the order of the X-macro list that defines them.
struct NamedValue {
  std::string name = {};
  uint64_t value = 0;
};
using CounterSet = std::vector<NamedValue>;

// ---- shared pieces ----------------------------------------------------------------------------

struct PortStatus {
  uint32_t index = 0;
  std::string device = {};
  std::vector<std::string> addresses = {};  // "10.90.0.1/24"
  // What the NIC reports (absent when the data plane does not say):
  std::optional<std::string> driver = {};
  std::optional<std::string> mac = {};
  std::optional<bool> link_up = {};
  std::optional<uint32_t> speed_mbps = {};
  std::optional<uint64_t> rx_packets = {};
  std::optional<uint64_t> tx_packets = {};
  std::optional<uint64_t> rx_bytes = {};
  std::optional<uint64_t> tx_bytes = {};
  std::optional<uint64_t> rx_missed = {};     // dropped by the NIC: RX queues full, workers too slow
  std::optional<uint64_t> rx_no_buffer = {};  // no packet buffer to receive into: the pool ran dry
  std::optional<uint64_t> rx_errors = {};
  std::optional<uint64_t> tx_errors = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("index", s.index);
    v("device", s.device);
    v("addresses", s.addresses);
    v("driver", s.driver);
    v("mac", s.mac);
    v("link_up", s.link_up);
    v("speed_mbps", s.speed_mbps);
    v("rx_packets", s.rx_packets);
    v("tx_packets", s.tx_packets);
    v("rx_bytes", s.rx_bytes);
    v("tx_bytes", s.tx_bytes);
    v("rx_missed", s.rx_missed);
    v("rx_no_buffer", s.rx_no_buffer);
    v("rx_errors", s.rx_errors);
    v("tx_errors", s.tx_errors);
  }
};

struct RelayAddress {
  IpAddress address = {};     // bound on our port
  IpAddress advertised = {};  // what XOR-RELAYED-ADDRESS says (relay.external)

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("address", s.address);
    v("advertised", s.advertised);
  }
};

struct AllocationInfo {
  uint32_t id = 0;
  std::string user = {};
  TransportAddress client = {};
  TransportAddress server = {};  // the listener the client talks to
  std::string transport = {};    // how the client reaches us: "udp", "tcp", "tls"
  TransportAddress relayed = {};  // as advertised to the client
  TransportAddress bound = {};    // on our relay address
  uint32_t expires_in = 0;   // seconds
  uint32_t age = 0;          // seconds
  uint32_t permissions = 0;
  uint32_t channels = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("id", s.id);
    v("user", s.user);
    v("client", s.client);
    v("server", s.server);
    v("transport", s.transport);
    v("relayed", s.relayed);
    v("bound", s.bound);
    v("expires_in", s.expires_in);
    v("age", s.age);
    v("permissions", s.permissions);
    v("channels", s.channels);
  }
};

struct PermissionInfo {
  IpAddress peer = {};
  uint32_t expires_in = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("peer", s.peer);
    v("expires_in", s.expires_in);
  }
};

struct ChannelInfo {
  uint32_t number = 0;
  TransportAddress peer = {};
  uint32_t expires_in = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("number", s.number);
    v("peer", s.peer);
    v("expires_in", s.expires_in);
  }
};

// One direction's drops of an allocation by reason (the data plane's AllocationDrop).
struct DropsInfo {
  uint64_t no_permission = 0;
  uint64_t unbound_channel = 0;
  uint64_t rate_limited = 0;
  uint64_t expired = 0;
  uint64_t other = 0;
  uint64_t stream_backpressure = 0;  // peer -> client, TCP and TLS clients: their connection held stream.buffer

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("no_permission", s.no_permission);
    v("unbound_channel", s.unbound_channel);
    v("rate_limited", s.rate_limited);
    v("expired", s.expired);
    v("other", s.other);
    v("stream_backpressure", s.stream_backpressure);
  }
};

// Application data relayed for one allocation since it was created, each direction, and what
// was dropped (drops_to_peer: the sum of drops_to_peer_by_reason).
struct TrafficInfo {
  uint64_t packets_to_peer = 0;
  uint64_t bytes_to_peer = 0;
  uint64_t drops_to_peer = 0;
  uint64_t packets_to_client = 0;
  uint64_t bytes_to_client = 0;
  uint64_t drops_to_client = 0;
  DropsInfo drops_to_peer_by_reason = {};
  DropsInfo drops_to_client_by_reason = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("packets_to_peer", s.packets_to_peer);
    v("bytes_to_peer", s.bytes_to_peer);
    v("drops_to_peer", s.drops_to_peer);
    v("packets_to_client", s.packets_to_client);
    v("bytes_to_client", s.bytes_to_client);
    v("drops_to_client", s.drops_to_client);
    v("drops_to_peer_by_reason", s.drops_to_peer_by_reason);
    v("drops_to_client_by_reason", s.drops_to_client_by_reason);
  }
};

// Requests one allocation had refused by the `limits` group, by limit (508 each).
struct LimitRefusalsInfo {
  uint64_t new_peers_per_second = 0;
  uint64_t permissions_per_allocation = 0;
  uint64_t channels_per_allocation = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("new_peers_per_second", s.new_peers_per_second);
    v("permissions_per_allocation", s.permissions_per_allocation);
    v("channels_per_allocation", s.channels_per_allocation);
  }
};

// ---- replies ----------------------------------------------------------------------------------

struct VersionReply {
  std::string version = {};
  uint32_t protocol = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("version", s.version);
    v("protocol", s.protocol);
  }
};

// A TCP or TLS listener as ternctl status shows it.
struct StreamListenerInfo {
  TransportAddress address = {};
  std::string transport = {};  // "tcp", "tls"
  bool proxy_protocol = false;
  uint64_t connections = 0;    // open now

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("address", s.address);
    v("transport", s.transport);
    v("proxy_protocol", s.proxy_protocol);
    v("connections", s.connections);
  }
};

struct StatusReply {
  std::string version = {};
  uint64_t uptime = 0;  // seconds
  uint32_t workers = 0;
  bool draining = false;
  uint64_t allocations = 0;  // live; while draining, those that remain
  uint64_t permissions = 0;
  uint64_t channels = 0;
  uint32_t users = 0;
  uint32_t secrets = 0;
  std::string log_level = {};
  std::optional<TransportAddress> alternate_server = {};      // UDP clients'
  std::optional<TransportAddress> alternate_server_tcp = {};  // TCP clients'
  std::optional<TransportAddress> alternate_server_tls = {};  // TLS clients'
  std::vector<TransportAddress> listeners = {};             // UDP
  std::vector<StreamListenerInfo> stream_listeners = {};   // TCP and TLS
  std::optional<int64_t> certificate_expires = {};         // UNIX seconds: the earliest TLS notAfter
  uint64_t tls_handshakes = 0;                              // TLS handshakes in flight now
  std::vector<RelayAddress> relay = {};
  std::vector<PortStatus> ports = {};
  std::optional<IpAddress> tracing = {};  // the address a running trace follows

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("version", s.version);
    v("uptime", s.uptime);
    v("workers", s.workers);
    v("draining", s.draining);
    v("allocations", s.allocations);
    v("permissions", s.permissions);
    v("channels", s.channels);
    v("users", s.users);
    v("secrets", s.secrets);
    v("log_level", s.log_level);
    v("alternate_server", s.alternate_server);
    v("alternate_server_tcp", s.alternate_server_tcp);
    v("alternate_server_tls", s.alternate_server_tls);
    v("listeners", s.listeners);
    v("stream_listeners", s.stream_listeners);
    v("certificate_expires", s.certificate_expires);
    v("tls_handshakes", s.tls_handshakes);
    v("relay", s.relay);
    v("ports", s.ports);
    v("tracing", s.tracing);
  }
};

struct WorkerLoad {
  uint32_t worker = 0;
  double busy_ratio = 0;      // share of its loop's cycles spent on packets, over the last second
  uint64_t busy_cycles = 0;   // TSC cycles of loop iterations that received packets, since start
  uint64_t total_cycles = 0;  // TSC cycles of all its loop iterations
  uint32_t punt_ring = 0;     // STUN messages (and ARP) waiting for the control plane
  uint32_t punt_capacity = 0;
  uint32_t hold_ring = 0;     // packets waiting for a next hop, not yet taken by the control lcore
  uint32_t hold_capacity = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("worker", s.worker);
    v("busy_ratio", s.busy_ratio);
    v("busy_cycles", s.busy_cycles);
    v("total_cycles", s.total_cycles);
    v("punt_ring", s.punt_ring);
    v("punt_capacity", s.punt_capacity);
    v("hold_ring", s.hold_ring);
    v("hold_capacity", s.hold_capacity);
  }
};

struct PoolInfo {
  std::string name = {};
  int32_t socket = 0;  // NUMA socket
  uint32_t size = 0;
  uint32_t in_use = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("socket", s.socket);
    v("size", s.size);
    v("in_use", s.in_use);
  }
};

struct StatsReply {
  uint32_t workers = 0;
  uint64_t tsc_hz = 0;                      // the unit of the cycle counts (0: unknown)
  CounterSet dataplane = {};                // every worker counter, summed over the workers
  std::vector<CounterSet> per_worker = {};  // the same, worker by worker
  CounterSet control_io = {};               // the control lcore's packet I/O
  CounterSet control_plane = {};            // requests, answers, authentication, allocations
  CounterSet streams = {};                  // TCP and TLS clients: the stream transport (empty without)
  CounterSet exception = {};                // the exception path to the kernel's TCP (empty without)
  std::vector<WorkerLoad> load = {};
  std::vector<PoolInfo> pools = {};
  std::vector<PortStatus> ports = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("workers", s.workers);
    v("tsc_hz", s.tsc_hz);
    v("dataplane", s.dataplane);
    v("per_worker", s.per_worker);
    v("control_io", s.control_io);
    v("control_plane", s.control_plane);
    v("streams", s.streams);
    v("exception", s.exception);
    v("load", s.load);
    v("pools", s.pools);
    v("ports", s.ports);
  }
};

struct AllocationsReply {
  uint64_t total = 0;      // live allocations on the server
  bool truncated = false;  // more matched than the limit let through
  std::vector<AllocationInfo> allocations = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("total", s.total);
    v("truncated", s.truncated);
    v("allocations", s.allocations);
  }
};

struct AllocationReply {
  AllocationInfo allocation = {};
  bool dont_fragment = false;
  uint64_t max_bps = 0;
  uint32_t allocation_pps = 0;
  std::optional<std::string> reservation_token = {};  // hex
  std::vector<PermissionInfo> permission_list = {};
  std::vector<ChannelInfo> channel_list = {};
  TrafficInfo traffic = {};
  LimitRefusalsInfo refused = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("allocation", s.allocation);
    v("dont_fragment", s.dont_fragment);
    v("max_bps", s.max_bps);
    v("allocation_pps", s.allocation_pps);
    v("reservation_token", s.reservation_token);
    v("permission_list", s.permission_list);
    v("channel_list", s.channel_list);
    v("traffic", s.traffic);
    v("refused", s.refused);
  }
};

struct KillReply {
  uint32_t killed = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) { v("killed", s.killed); }
};

struct UsersListReply {
  std::vector<std::string> users = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) { v("users", s.users); }
};

struct UsersAddReply {
  std::string name = {};
  bool replaced = false;  // a user of that name existed and has the new credentials
  bool sha256 = false;    // can use PASSWORD-ALGORITHM SHA-256

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("replaced", s.replaced);
    v("sha256", s.sha256);
  }
};

struct UsersRemoveReply {
  std::string name = {};
  uint32_t users = 0;  // users left

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("users", s.users);
  }
};

// A secret as the operator sees it: never the secret, a fingerprint that tells them apart.
struct SecretInfo {
  uint32_t index = 0;  // 0 is the newest
  std::string fingerprint = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("index", s.index);
    v("fingerprint", s.fingerprint);
  }
};

struct SecretsReply {
  std::vector<SecretInfo> secrets = {};
  std::optional<std::string> changed = {};  // add/remove: the fingerprint added or removed

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("secrets", s.secrets);
    v("changed", s.changed);
  }
};

struct NotApplied {
  std::string setting = {};  // "dataplane.ports"
  std::string reason = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("setting", s.setting);
    v("reason", s.reason);
  }
};

struct ReloadReply {
  std::string file = {};
  std::vector<std::string> applied = {};     // the live settings that changed
  std::vector<NotApplied> not_applied = {};  // changed, but only a restart takes them
  uint32_t users = 0;
  uint32_t secrets = 0;
  uint32_t permissions_revoked = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("file", s.file);
    v("applied", s.applied);
    v("not_applied", s.not_applied);
    v("users", s.users);
    v("secrets", s.secrets);
    v("permissions_revoked", s.permissions_revoked);
  }
};

struct DrainReply {
  bool draining = false;
  uint64_t allocations = 0;  // live allocations (those still to finish while draining)
  // Sent with 300, per client transport; absent: new Allocates over it get 508.
  std::optional<TransportAddress> alternate_server = {};
  std::optional<TransportAddress> alternate_server_tcp = {};
  std::optional<TransportAddress> alternate_server_tls = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("draining", s.draining);
    v("allocations", s.allocations);
    v("alternate_server", s.alternate_server);
    v("alternate_server_tcp", s.alternate_server_tcp);
    v("alternate_server_tls", s.alternate_server_tls);
  }
};

// A short-lived long-term credential ternd issues for one probe.
struct ProbeCredential {
  std::string username = {};
  std::string password = {};
  std::string realm = {};
  uint32_t expires_in = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("username", s.username);
    v("password", s.password);
    v("realm", s.realm);
    v("expires_in", s.expires_in);
  }
};

// Something the server can tell about itself without a packet.
struct Finding {
  std::string severity = {};  // "error", "warning", "info"
  std::string check = {};     // what was looked at: "port 0 link", "listener 10.90.0.1:3478"
  std::string message = {};   // what it means for clients

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("severity", s.severity);
    v("check", s.check);
    v("message", s.message);
  }
};

struct ProbeReply {
  ProbeCredential credential = {};
  std::vector<TransportAddress> listeners = {};             // UDP
  std::vector<StreamListenerInfo> stream_listeners = {};   // TCP and TLS
  std::optional<int64_t> certificate_expires = {};         // UNIX seconds: the earliest TLS notAfter
  std::vector<RelayAddress> relay = {};
  uint32_t relay_port_min = 0;
  uint32_t relay_port_max = 0;
  bool draining = false;
  std::vector<Finding> findings = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("credential", s.credential);
    v("listeners", s.listeners);
    v("stream_listeners", s.stream_listeners);
    v("certificate_expires", s.certificate_expires);
    v("relay", s.relay);
    v("relay_port_min", s.relay_port_min);
    v("relay_port_max", s.relay_port_max);
    v("draining", s.draining);
    v("findings", s.findings);
  }
};

// What ternctl's probe found, step by step (its --json output; probe.done carries the counts).
struct ProbeStep {
  std::string target = {};  // the listener probed, or "server"
  std::string step = {};    // "binding", "allocate", "relay", ...
  std::string status = {};  // "ok", "warning", "fail", "skipped"
  std::string detail = {};  // what happened
  std::optional<std::string> meaning = {};  // for a warning or failure: what usually causes it

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("target", s.target);
    v("step", s.step);
    v("status", s.status);
    v("detail", s.detail);
    v("meaning", s.meaning);
  }
};

struct ProbeReport {
  bool ok = false;  // no step failed
  uint32_t failures = 0;
  uint32_t warnings = 0;
  std::vector<Finding> findings = {};  // the server's own
  std::vector<ProbeStep> steps = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("ok", s.ok);
    v("failures", s.failures);
    v("warnings", s.warnings);
    v("findings", s.findings);
    v("steps", s.steps);
  }
};

struct ProbeDoneReply {
  bool removed = false;
  uint32_t killed = 0;  // allocations the probe left behind, removed with its credential

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("removed", s.removed);
    v("killed", s.killed);
  }
};

struct TraceReply {
  IpAddress address = {};
  uint32_t seconds = 0;
  uint32_t rate = 0;  // records per second at most; more are counted as suppressed

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("address", s.address);
    v("seconds", s.seconds);
    v("rate", s.rate);
  }
};

// One decision about one packet from or to the traced address.
struct TraceRecord {
  double time = 0;            // seconds since the data plane started
  std::string source = {};    // "worker 0", "control"
  std::string from = {};      // transport address the packet came from
  std::string to = {};        // and where it was going
  std::string packet = {};    // what it was: "channel_data", "peer_data", "CreatePermission request", ...
  std::string decision = {};  // "relayed", "hairpin", "dropped", "punted", "answered", "error", ...
  std::optional<std::string> reason = {};  // why: a drop counter, a punt reason, an error code and phrase
  std::optional<std::string> next = {};    // relayed or answered to; for the control plane, the peer named
  std::optional<uint32_t> allocation = {};
  std::optional<uint32_t> channel = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("time", s.time);
    v("source", s.source);
    v("from", s.from);
    v("to", s.to);
    v("packet", s.packet);
    v("decision", s.decision);
    v("reason", s.reason);
    v("next", s.next);
    v("allocation", s.allocation);
    v("channel", s.channel);
  }
};

// Streamed after TraceReply, as "event": "trace" lines, then one "trace_end".
struct TraceBatch {
  std::vector<TraceRecord> records = {};
  uint64_t suppressed = 0;  // records over the rate, or lost by a worker's full trace ring

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("records", s.records);
    v("suppressed", s.suppressed);
  }
};

struct TraceEnd {
  std::string reason = {};  // "elapsed", "stopped"
  uint64_t records = 0;
  uint64_t suppressed = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("reason", s.reason);
    v("records", s.records);
    v("suppressed", s.suppressed);
  }
};

// ---- requests ---------------------------------------------------------------------------------

struct VersionRequest {
  static constexpr std::string_view kCommand = "version";
  using Reply = VersionReply;
  template <typename S, typename V>
  static void fields(S&, V&) {}
};

struct StatusRequest {
  static constexpr std::string_view kCommand = "status";
  using Reply = StatusReply;
  template <typename S, typename V>
  static void fields(S&, V&) {}
};

struct StatsRequest {
  static constexpr std::string_view kCommand = "stats";
  using Reply = StatsReply;
  template <typename S, typename V>
  static void fields(S&, V&) {}
};

struct AllocationsRequest {
  static constexpr std::string_view kCommand = "allocations";
  using Reply = AllocationsReply;
  std::optional<std::string> user = {};
  std::optional<Endpoint> client = {};
  std::optional<uint32_t> limit = {};  // default kDefaultListLimit, at most kMaxListLimit

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("user", s.user);
    v("client", s.client);
    v("limit", s.limit);
  }
};
inline constexpr uint32_t kDefaultListLimit = 1000;
inline constexpr uint32_t kMaxListLimit = 20000;

// ("allocation", not "id": "id" is the envelope's.)
struct AllocationRequest {
  static constexpr std::string_view kCommand = "allocation";
  using Reply = AllocationReply;
  uint32_t allocation = 0;

  template <typename S, typename V>
  static void fields(S& s, V& v) { v("allocation", s.allocation); }
};

// Exactly one of allocation and user.
struct KillRequest {
  static constexpr std::string_view kCommand = "kill";
  using Reply = KillReply;
  std::optional<uint32_t> allocation = {};
  std::optional<std::string> user = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("allocation", s.allocation);
    v("user", s.user);
  }
};

struct UsersListRequest {
  static constexpr std::string_view kCommand = "users.list";
  using Reply = UsersListReply;
  template <typename S, typename V>
  static void fields(S&, V&) {}
};

// Exactly one of password and key (32 hex digits: MD5(name ":" realm ":" password)); key_sha256
// (64 hex digits) only with key.
struct UsersAddRequest {
  static constexpr std::string_view kCommand = "users.add";
  using Reply = UsersAddReply;
  std::string name = {};
  std::optional<std::string> password = {};
  std::optional<std::string> key = {};
  std::optional<std::string> key_sha256 = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("password", s.password);
    v("key", s.key);
    v("key_sha256", s.key_sha256);
  }
};

struct UsersRemoveRequest {
  static constexpr std::string_view kCommand = "users.remove";
  using Reply = UsersRemoveReply;
  std::string name = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) { v("name", s.name); }
};

struct SecretsListRequest {
  static constexpr std::string_view kCommand = "secrets.list";
  using Reply = SecretsReply;
  template <typename S, typename V>
  static void fields(S&, V&) {}
};

// New secrets go first (the newest signs new credentials) unless `last`.
struct SecretsAddRequest {
  static constexpr std::string_view kCommand = "secrets.add";
  using Reply = SecretsReply;
  std::string secret = {};
  std::optional<bool> last = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("secret", s.secret);
    v("last", s.last);
  }
};

struct SecretsRemoveRequest {
  static constexpr std::string_view kCommand = "secrets.remove";
  using Reply = SecretsReply;
  std::string fingerprint = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) { v("fingerprint", s.fingerprint); }
};

struct ReloadRequest {
  static constexpr std::string_view kCommand = "reload";
  using Reply = ReloadReply;
  template <typename S, typename V>
  static void fields(S&, V&) {}
};

struct DrainRequest {
  static constexpr std::string_view kCommand = "drain";
  using Reply = DrainReply;
  bool on = false;

  template <typename S, typename V>
  static void fields(S& s, V& v) { v("on", s.on); }
};

struct ProbeRequest {
  static constexpr std::string_view kCommand = "probe";
  using Reply = ProbeReply;
  template <typename S, typename V>
  static void fields(S&, V&) {}
};

// Withdraws a probe credential (and any allocation made with it); the outcome goes to the log.
struct ProbeDoneRequest {
  static constexpr std::string_view kCommand = "probe.done";
  using Reply = ProbeDoneReply;
  std::string username = {};
  std::optional<uint32_t> failures = {};
  std::optional<uint32_t> warnings = {};

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("username", s.username);
    v("failures", s.failures);
    v("warnings", s.warnings);
  }
};

struct TraceRequest {
  static constexpr std::string_view kCommand = "trace";
  using Reply = TraceReply;
  IpAddress address = {};
  std::optional<uint32_t> seconds = {};  // default kDefaultTraceSeconds, at most kMaxTraceSeconds

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("address", s.address);
    v("seconds", s.seconds);
  }
};
inline constexpr uint32_t kDefaultTraceSeconds = 10;
inline constexpr uint32_t kMaxTraceSeconds = 3600;

using Request = std::variant<VersionRequest, StatusRequest, StatsRequest, AllocationsRequest, AllocationRequest,
                             KillRequest, UsersListRequest, UsersAddRequest, UsersRemoveRequest, SecretsListRequest,
                             SecretsAddRequest, SecretsRemoveRequest, ReloadRequest, DrainRequest, ProbeRequest,
                             ProbeDoneRequest, TraceRequest>;

// The command name of a request ("users.add").
std::string_view command_of(const Request& request);

}  // namespace tern::ctl::api
