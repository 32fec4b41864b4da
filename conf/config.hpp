#pragma once
// tern's configuration: one plain struct of plain structs, every setting typed, every default a
// kDefault* constant. conf/load.hpp fills it from a libconfig file (conf/ternd.conf is the
// annotated example); conf/validate.hpp checks it. Field names follow the file's setting names,
// so `relay.ports.max` in the file is `config.relay.ports.max` here.
//
// Only long-term keys are kept for users, never their passwords.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conf/net.hpp"
#include "crypto/engine.hpp"

namespace tern::conf {

enum class LogLevel : uint8_t { debug, info, notice, warning, error };
std::string_view to_string(LogLevel level);
// "debug", "info", "notice", "warning", "error"; anything else -> nullopt.
std::optional<LogLevel> parse_log_level(std::string_view text);

// ---- defaults --------------------------------------------------------------------------------
// realm, listen.udp, relay.addresses, dataplane.ports and at least one of auth.users /
// auth.secrets have no default: a configuration must name them.

inline constexpr std::string_view kDefaultSoftware = "";  // empty: no SOFTWARE attribute is sent
inline constexpr Port kDefaultRelayPortMin{49152};        // RFC 8656 §7.2: the dynamic port range
inline constexpr Port kDefaultRelayPortMax{65535};
inline constexpr std::chrono::seconds kDefaultNonceLifetime{600};
inline constexpr uint32_t kDefaultUnauthenticatedRate = 10;  // 401 answers per second per source
inline constexpr uint32_t kDefaultUnauthenticatedBurst = 20;
inline constexpr std::chrono::seconds kDefaultAllocationLifetime{600};      // RFC 8656: 10 minutes
inline constexpr std::chrono::seconds kDefaultAllocationMaxLifetime{3600};  // RFC 8656 §7.2
inline constexpr std::chrono::seconds kDefaultPermissionLifetime{300};      // RFC 8656 §9
inline constexpr std::chrono::seconds kDefaultChannelLifetime{600};         // RFC 8656 §12
inline constexpr uint32_t kDefaultUserQuota = 0;                            // 0 = unlimited
inline constexpr uint32_t kDefaultTotalQuota = 0;  // 0 = unlimited (table_size still bounds it)
inline constexpr uint64_t kDefaultMaxBps = 0;      // 0 = unlimited
// A 1080p WebRTC call sends a few hundred to about 1,000 packets a second each way (simulcast a
// little more): 5,000 leaves room for any real call and still stops one credential's flood.
inline constexpr uint32_t kDefaultAllocationPps = 5000;
inline constexpr uint32_t kMaxAllocationPps = 100'000'000;
// Control-plane limits per allocation and per client address (why these values: README,
// "Configuration"). ICE installs a permission for each remote candidate's address, a few dozen at
// the start of a call at most; 64 at once and 20 a second after that leave room for any agent and
// stop one credential from sweeping the Internet through the relay.
inline constexpr uint32_t kDefaultNewPeersPerSecond = 20;
inline constexpr uint32_t kDefaultNewPeersBurst = 64;
// Ten times what an ICE agent installs; a client that is itself a conference's media server (one
// peer per participant) raises them.
inline constexpr uint32_t kDefaultPermissionsPerAllocation = 256;
inline constexpr uint32_t kDefaultChannelsPerAllocation = 256;
// Carrier-grade and enterprise NAT put thousands of users behind one address.
inline constexpr uint32_t kDefaultAllocationsPerAddress = 2000;
inline constexpr uint32_t kMaxNewPeersPerSecond = 1'000'000;
inline constexpr uint32_t kMaxChannelsPerAllocation = 4096;  // RFC 8656 §12: 0x4000-0x4FFF
inline constexpr std::string_view kDefaultControlSocket = "/run/tern/ternd.sock";
inline constexpr TransportAddress kDefaultMetrics{IpAddress::v4(127, 0, 0, 1), Port{9641}};
inline constexpr LogLevel kDefaultLogLevel = LogLevel::info;
inline constexpr bool kDefaultSyslog = false;
inline constexpr bool kDefaultRfc5766Channels = false;
inline constexpr uint32_t kDefaultTableSize = 65536;
// TURN over TCP and TLS (the `stream` and `tls` groups).
inline constexpr uint32_t kDefaultStreamConnections = 10000;       // in all
inline constexpr uint32_t kDefaultStreamConnectionsPerSource = 64;  // per client IP address
inline constexpr uint32_t kDefaultTlsHandshakes = 256;              // TLS handshakes in flight
inline constexpr std::chrono::seconds kDefaultHandshakeTimeout{10};
inline constexpr std::chrono::seconds kDefaultFirstMessageTimeout{10};
// A connection without an allocation that carries nothing closes after this; one with an
// allocation lives as long as its allocation (a Refresh is traffic).
inline constexpr std::chrono::seconds kDefaultStreamIdleTimeout{300};
inline constexpr uint32_t kDefaultStreamMaxMessage = 4096;  // a STUN message over a stream, bytes
inline constexpr uint32_t kDefaultStreamBuffer = 262144;     // bytes queued towards one client
inline constexpr std::chrono::seconds kDefaultProxyHeaderTimeout{5};
inline constexpr std::string_view kDefaultTlsMinVersion = "1.2";
// TLS 1.2: forward secrecy and AEAD only (ECDHE with AES-GCM or ChaCha20-Poly1305). TLS 1.3's
// suites are OpenSSL's, all AEAD.
inline constexpr std::string_view kDefaultTlsCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr std::chrono::seconds kDefaultTicketKeyLifetime{12 * 3600};
inline constexpr uint32_t kDefaultMbufs = 16383;  // 2^n - 1 is the mempool's most compact size

// ---- limits every value is checked against (conf/validate.hpp) -------------------------------

inline constexpr std::chrono::seconds kMaxLifetime{86400};  // any lifetime, including the nonce's
// RFC 8656 §9 and §12: clients refresh a permission before 300 s and a channel binding before
// 600 s are up; a server that forgets them sooner drops their traffic in between.
inline constexpr std::chrono::seconds kMinPermissionLifetime{300};
inline constexpr std::chrono::seconds kMinChannelLifetime{600};
inline constexpr uint32_t kMaxUnauthenticatedRate = 1'000'000;
inline constexpr uint32_t kMaxTableSize = 1u << 24;  // 16,777,216 allocation slots
inline constexpr uint32_t kMinMbufs = 1023;
inline constexpr uint32_t kMaxMbufs = (1u << 24) - 1;
inline constexpr size_t kMaxRealmChars = 127;     // RFC 8489 §14.9: fewer than 128 characters
inline constexpr size_t kMaxSoftwareChars = 127;  // RFC 8489 §14.14
inline constexpr size_t kMaxUsernameBytes = 508;  // RFC 8489 §14.3: fewer than 509 bytes
inline constexpr size_t kMaxSocketPath = 107;     // sizeof(sockaddr_un::sun_path) - 1

// ---- the configuration ------------------------------------------------------------------------

struct Listen {
  std::vector<TransportAddress> udp;
  std::vector<TransportAddress> tcp;
  std::vector<TransportAddress> tls;
};

// One certificate chain and its private key, PEM files. Lines are where the file names them (for
// messages about the files themselves).
struct TlsCertificate {
  std::string certificate;
  std::string private_key;
  unsigned line = 0;
};

struct Tls {
  std::vector<TlsCertificate> certificates;  // an ECDSA chain, an RSA chain, or both
  std::string min_version{kDefaultTlsMinVersion};  // "1.2" or "1.3"
  std::string ciphers{kDefaultTlsCiphers};         // TLS 1.2, OpenSSL's syntax
  std::string ciphersuites;                        // TLS 1.3, OpenSSL's syntax; "": OpenSSL's
  bool session_tickets = true;
  std::chrono::seconds ticket_key_lifetime = kDefaultTicketKeyLifetime;  // rotation period
};

// Limits of TCP and TLS client connections.
struct Stream {
  uint32_t max_connections = kDefaultStreamConnections;
  uint32_t max_connections_per_source = kDefaultStreamConnectionsPerSource;
  uint32_t max_handshakes = kDefaultTlsHandshakes;
  std::chrono::seconds handshake_timeout = kDefaultHandshakeTimeout;
  std::chrono::seconds first_message_timeout = kDefaultFirstMessageTimeout;
  std::chrono::seconds idle_timeout = kDefaultStreamIdleTimeout;
  uint32_t max_message = kDefaultStreamMaxMessage;
  uint32_t buffer = kDefaultStreamBuffer;
};

// The PROXY protocol (v1 and v2) in front of these TCP or TLS listeners, accepted only from the
// `from` prefixes (a load balancer's addresses): the client address it carries is the one tern
// authenticates, limits, logs and answers in XOR-MAPPED-ADDRESS.
struct ProxyProtocol {
  std::vector<TransportAddress> listeners;
  std::vector<Prefix> from;
  std::chrono::seconds header_timeout = kDefaultProxyHeaderTimeout;
};

// Where 300 Try Alternate sends a client while the server drains (RFC 8489 §10), per transport:
// a TLS client sent to a UDP port would fail.
struct AlternateServer {
  std::optional<TransportAddress> udp;
  std::optional<TransportAddress> tcp;
  std::optional<TransportAddress> tls;
  const std::optional<TransportAddress>& of(ClientTransport transport) const {
    return transport == ClientTransport::udp ? udp : transport == ClientTransport::tcp ? tcp : tls;
  }
  bool operator==(const AlternateServer&) const = default;
};

struct PortRange {  // inclusive at both ends
  Port min = kDefaultRelayPortMin;
  Port max = kDefaultRelayPortMax;

  constexpr uint32_t size() const {
    return max.value >= min.value ? uint32_t{max.value} - min.value + 1 : 0;
  }
  constexpr bool contains(Port port) const {
    return port.value >= min.value && port.value <= max.value;
  }
};

// A relay address behind a 1:1 NAT: allocations on `relay` are announced to clients as
// `advertise` in XOR-RELAYED-ADDRESS.
struct ExternalAddress {
  IpAddress relay;
  IpAddress advertise;
};

struct Relay {
  std::vector<IpAddress> addresses;  // every one is also an address of a dataplane port
  PortRange ports;
  std::vector<ExternalAddress> external;
};

using Md5Key = std::array<uint8_t, crypto::kMd5Size>;
using Sha256Key = std::array<uint8_t, crypto::kSha256Size>;

// RFC 8489 §9.2.2 long-term credentials, kept as keys: key_md5 = MD5(name ":" realm ":" password),
// key_sha256 = SHA-256(name ":" realm ":" password). A user configured by password has both;
// a user configured by key has key_md5 and, when one was given, key_sha256.
struct User {
  std::string name;
  Md5Key key_md5{};
  std::optional<Sha256Key> key_sha256;
};

struct Auth {
  std::vector<User> users;
  // TURN REST API shared secrets (HMAC keys for ephemeral credentials), newest first: new
  // credentials are made with the first, every one is accepted, so a secret can be rotated.
  std::vector<std::string> secrets;
  std::chrono::seconds nonce_lifetime = kDefaultNonceLifetime;
  // 401 answers per second per source address, a token bucket of unauthenticated_burst;
  // rate 0 = unlimited.
  uint32_t unauthenticated_rate = kDefaultUnauthenticatedRate;
  uint32_t unauthenticated_burst = kDefaultUnauthenticatedBurst;
};

struct Lifetimes {
  std::chrono::seconds allocation_default = kDefaultAllocationLifetime;
  std::chrono::seconds allocation_max = kDefaultAllocationMaxLifetime;
  std::chrono::seconds permission = kDefaultPermissionLifetime;
  std::chrono::seconds channel = kDefaultChannelLifetime;
};

struct Limits {
  uint32_t user_quota = kDefaultUserQuota;    // allocations per username; 0 = unlimited
  uint32_t total_quota = kDefaultTotalQuota;  // allocations on this server; 0 = unlimited
  // Bandwidth cap per allocation, in bits per second of relayed UDP payload, each direction
  // on its own; 0 = unlimited.
  uint64_t max_bps = kDefaultMaxBps;
  // Packets per second per allocation, each direction on its own, with a tenth of a second's
  // worth as burst; 0 = unlimited.
  uint32_t allocation_pps = kDefaultAllocationPps;
  // New peer addresses (a permission for an IP the allocation did not have, by CreatePermission
  // or ChannelBind) per second per allocation, a token bucket new_peers_burst deep; 0 = unlimited.
  uint32_t new_peers_per_second = kDefaultNewPeersPerSecond;
  uint32_t new_peers_burst = kDefaultNewPeersBurst;
  // Live permissions and channel bindings per allocation; 0 = unlimited (the data plane's
  // tables still bound them).
  uint32_t permissions_per_allocation = kDefaultPermissionsPerAllocation;
  uint32_t channels_per_allocation = kDefaultChannelsPerAllocation;
  // Live allocations per client address (an IPv6 client's /64), except for addresses in the
  // exempt prefixes; 0 = unlimited.
  uint32_t allocations_per_address = kDefaultAllocationsPerAddress;
  std::vector<Prefix> allocations_per_address_exempt;
};

// Peer policy, applied to the canonical form of a peer address (IpAddress::canonical()):
// an address inside an `allow` prefix is permitted; otherwise one inside default_peer_deny() or
// a `deny` prefix is refused; everything else is permitted.
struct Peers {
  std::vector<Prefix> allow;
  std::vector<Prefix> deny;
};

// The built-in deny list: unspecified, loopback, private (RFC 1918, RFC 6598 shared, IPv6 ULA),
// link-local (which holds the cloud metadata address 169.254.169.254), multicast, reserved.
std::span<const Prefix> default_peer_deny();

struct Control {
  std::string socket{kDefaultControlSocket};                  // the ternctl Unix socket
  std::optional<TransportAddress> metrics = kDefaultMetrics;  // Prometheus endpoint; nullopt = off
};

struct Log {
  LogLevel level = kDefaultLogLevel;
  bool syslog = kDefaultSyslog;
};

// Interoperability with clients of the obsoleted RFC 5766.
struct Compat {
  // RFC 8656 §12 narrowed channel numbers to 0x4000-0x4FFF (0x5000-0x7FFF are reserved so the
  // first byte never collides with other protocols multiplexed on a client's socket, RFC 7983);
  // RFC 5766 clients, coturn's turnutils_uclient among them, still bind 0x4000-0x7FFF. true:
  // accept that range in ChannelBind and ChannelData; false (the RFC): answer 400.
  bool rfc5766_channels = kDefaultRfc5766Channels;
};

struct DataplanePort {
  std::string device;  // a DPDK device: PCI address or vdev string
  std::vector<InterfaceAddress> addresses;
  std::vector<IpAddress> gateways;  // `gateway` in the file; at most one per address family
};

struct Dataplane {
  std::vector<std::string> eal;  // EAL arguments, program name excluded
  std::vector<DataplanePort> ports;
  uint32_t table_size = kDefaultTableSize;  // allocation slots, preallocated
  uint32_t mbufs = kDefaultMbufs;           // mbuf pool size per NUMA socket
};

struct Config {
  std::string realm;
  std::string software{kDefaultSoftware};
  // Sent with 300 Try Alternate (RFC 8489 §10) while the server drains.
  AlternateServer alternate_server;
  Listen listen;
  Tls tls;
  Stream stream;
  ProxyProtocol proxy_protocol;
  Relay relay;
  Auth auth;
  Lifetimes lifetimes;
  Limits limits;
  Peers peers;
  Control control;
  Log log;
  Compat compat;
  Dataplane dataplane;
};

}  // namespace tern::conf
