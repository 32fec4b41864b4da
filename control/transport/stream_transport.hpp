#pragma once
// TURN over TCP and TLS (RFC 8656 §3.1, RFC 6062 is not this): the stream transport's thread.
// It lives in ternd's own network namespace, the kernel end of the exception path, and serves the
// listeners there with the kernel's TCP: accepts (within the connection limits), reads a PROXY
// header where the listener expects one, runs the TLS handshake (ALPN stun.turn), cuts each
// client's stream into STUN and ChannelData messages, and
//   - passes STUN requests to the control plane (Mailbox) and writes its answers back;
//   - relays ChannelData and Send indications of a connection that holds an allocation through
//     the data plane (StreamIo::relay), and writes the peers' data the workers framed for it;
//   - closes what breaks a limit (sizes, timeouts, buffers), counting every reason; a closed
//     connection's allocation goes with it (RFC 8656: the allocation lives and dies with it).
// From the same loop it keeps the exception port pumping (StreamIo::pump). It sleeps in epoll
// when there is nothing to do, polling the data plane's rings at most every kIdlePoll.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "conf/config.hpp"
#include "conf/net.hpp"
#include "control/base/hash.hpp"
#include "control/base/log.hpp"
#include "control/transport/counters.hpp"
#include "control/transport/mailbox.hpp"
#include "control/transport/tls_context.hpp"
#include "dataplane/contract/stream_io.hpp"

namespace tern::ctl {

struct Connection;

struct StreamListener {
  TransportAddress address;
  ClientTransport transport = ClientTransport::tcp;  // tcp or tls
  bool proxy = false;                                // PROXY protocol in front
};

struct StreamTransportConfig {
  std::vector<StreamListener> listeners;
  std::vector<Prefix> proxy_from;
  std::chrono::seconds proxy_header_timeout = conf::kDefaultProxyHeaderTimeout;
  conf::Stream limits;
  std::chrono::seconds allocation_max = conf::kDefaultAllocationMaxLifetime;
  uint32_t table_size = conf::kDefaultTableSize;  // allocation slots: per-allocation counters

  static StreamTransportConfig from(const conf::Config& config);
};

// The TLS settings of a configuration's `tls` group.
TlsSettings tls_settings(const conf::Tls& tls);

struct StreamListenerStatus {
  StreamListener listener;
  uint64_t connections = 0;  // open now
};

// What ternctl status and the metrics show; a snapshot, taken from any thread.
struct StreamStatus {
  std::vector<StreamListenerStatus> listeners;
  uint64_t connections = 0;
  uint64_t handshakes = 0;                     // TLS handshakes in flight
  std::optional<time_t> certificate_expiry;   // the earliest notAfter of the TLS certificates
  TransportCounterValues counters{};
  dp::ExceptionCounterValues exception{};
};

class StreamTransport {
 public:
  static constexpr std::chrono::microseconds kIdlePoll{250};
  static constexpr const char* kThreadName = "tern-streams";
  // Requests of one connection in flight to the control plane; more wait in its socket.
  static constexpr uint32_t kMaxPendingRequests = 32;

  StreamTransport(StreamTransportConfig config, dp::StreamIo& io, Mailbox& mailbox, const Logger& logger);
  ~StreamTransport();  // stop()
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;

  // Starts the thread; returns once its listeners are open (or could not be: false, error says
  // why). `tls`: for TLS listeners (may be null without them).
  bool start(std::unique_ptr<TlsContext> tls, std::string& error);
  // Closes every connection and ends the thread.
  void stop();
  // A reloaded `tls` group: the thread builds its new context from the running one (tickets issued
  // under the old keys still resume); connections keep the one they were made with.
  void reload_tls(TlsSettings settings);

  StreamStatus status() const;
  // Peers' data for allocation `id`'s connection dropped because the connection held stream.buffer
  // unsent, since the allocation was made (only meaningful for a TCP or TLS client's allocation).
  uint64_t backpressure_drops(dp::AllocId id) const;

 private:
  struct Listening {
    StreamListener listener;
    int fd = -1;
    std::atomic<uint64_t> connections{0};
  };

  void run();
  bool open_listeners(std::string& error);
  void loop();
  void on_accept(Listening& l);
  void on_event(dp::StreamId id, uint32_t events);
  void step(Connection& c);  // advances a connection as far as it can go now
  bool read_proxy_header(Connection& c);
  bool handshake(Connection& c);
  void take_messages(Connection& c);
  void on_stun(Connection& c, std::span<const uint8_t> message);
  void relay(Connection& c, std::span<const uint8_t> message, bool channel_data);
  void write(Connection& c, const uint8_t* bytes, size_t length, bool peer_data);
  void arm_write(Connection& c);
  void update_events(Connection& c);
  bool can_take(const Connection& c) const;
  bool resume(Connection& c);
  void close(Connection& c, TransportCounter reason);
  void deliver();
  void take_replies();
  void check_timers(int64_t now_ms);
  void apply_tls_reload();
  int64_t now_ms() const;
  uint32_t source_count(const IpAddress& ip) const;

  StreamTransportConfig config_;
  dp::StreamIo& io_;
  Mailbox& mailbox_;
  const Logger& logger_;
  TransportCounters counters_;
  // By allocation slot: written by the transport's thread only (reset when a connection gets the
  // slot's allocation), read by the control lcore.
  std::unique_ptr<std::atomic<uint64_t>[]> backpressure_;

  std::thread thread_;
  std::atomic<bool> running_{false};
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::vector<std::unique_ptr<Listening>> listening_;
  std::unique_ptr<TlsContext> tls_;
  std::optional<time_t> certificate_expiry_;  // guarded by reload_mutex_
  std::mutex reload_mutex_;
  std::atomic<bool> reload_requested_{false};  // reload_tls() -> the thread
  std::optional<TlsSettings> pending_tls_;    // guarded by reload_mutex_

  // The transport thread's own.
  std::unordered_map<dp::StreamId, std::unique_ptr<Connection>> connections_;
  std::unordered_map<IpAddress, uint32_t, IpAddressHash> per_source_;
  uint32_t next_stream_ = 0;
  std::atomic<uint64_t> open_connections_{0};
  std::atomic<uint64_t> handshakes_{0};
  int64_t last_timers_ms_ = 0;
  std::vector<StreamReply> replies_;
  std::vector<dp::StreamDelivery> deliveries_;
};

}  // namespace tern::ctl
