#pragma once
// The stream transport's counters: one X-macro list (dataplane/contract/counter_list.hpp) for the
// enum, ternctl stats and the metrics. Every connection that ends early and every message that is
// not passed on has its reason.

#include <array>
#include <atomic>
#include <cstdint>

#include "dataplane/contract/counter_list.hpp"

namespace tern::ctl {

// X(name, help)
#define TERN_TRANSPORT_COUNTERS(X)                                                                   \
  X(tcp_accepted, "TCP client connections accepted")                                                \
  X(tls_accepted, "TLS client connections accepted")                                                \
  X(refused_connections, "connections refused: stream.max_connections reached")                     \
  X(refused_per_source, "connections refused: stream.max_connections_per_source reached")          \
  X(refused_handshakes, "TLS connections refused: stream.max_handshakes in flight")                 \
  X(proxy_refused_source, "PROXY listener connections from outside proxy_protocol.from: closed")   \
  X(proxy_invalid, "PROXY headers that were not the PROXY protocol or not TCP: closed")             \
  X(proxy_timeout, "PROXY headers not complete within proxy_protocol.header_timeout: closed")      \
  X(tls_handshakes, "TLS handshakes completed")                                                     \
  X(tls_resumed, "TLS handshakes that resumed a session (tickets)")                                 \
  X(tls_failed_alpn, "TLS handshakes refused: ALPN offered without stun.turn (RFC 7301 alert)")    \
  X(tls_failed_version_or_cipher, "TLS handshakes failed: no version or cipher in common")         \
  X(tls_failed_other, "TLS handshakes failed: the client's alert, a protocol error, or it left")   \
  X(handshake_timeout, "TLS handshakes not done within stream.handshake_timeout: closed")          \
  X(first_message_timeout, "connections without a STUN message within stream.first_message_timeout: closed") \
  X(idle_timeout, "connections idle past stream.idle_timeout (or an allocation's lifetime): closed") \
  X(closed_by_client, "connections the client closed (or that failed under it)")                   \
  X(not_turn, "connections that sent neither STUN nor ChannelData: closed")                         \
  X(message_too_big, "STUN messages over stream.max_message: connection closed")                    \
  X(requests, "STUN requests passed to the control plane")                                          \
  X(requests_refused, "STUN requests refused: the control plane's queue was full")                 \
  X(reading_paused, "connections not read for a while: 32 requests in flight, or unread answers filling stream.buffer") \
  X(replies, "answers written to TCP and TLS clients")                                              \
  X(ignored, "STUN indications and responses from clients: ignored")                                \
  X(relayed, "ChannelData and Send indications from TCP and TLS clients relayed")                  \
  X(no_allocation, "ChannelData and Send from connections without an allocation: dropped")          \
  X(datagram_too_big, "ChannelData and Send too long for one datagram: dropped")                    \
  X(relay_dropped, "ChannelData and Send the data plane could not take: dropped")                   \
  X(delivered, "peer data written to TCP and TLS clients")                                          \
  X(delivery_backpressure, "peer data dropped: the client's connection held stream.buffer unsent")  \
  X(delivery_no_connection, "peer data for a connection that had closed: dropped")                  \
  X(allocations_closed, "allocations removed because their connection closed")

TERN_COUNTER_LIST(TERN_TRANSPORT_COUNTERS, TransportCounter, kTransportCounterCount,
                  kTransportCounterNames, kTransportCounterHelp);
using TransportCounterValues = std::array<uint64_t, kTransportCounterCount>;

// One writer (the transport's thread), readers anywhere: relaxed atomics.
class TransportCounters {
 public:
  void add(TransportCounter c, uint64_t n = 1) {
    auto& v = values_[static_cast<size_t>(c)];
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  TransportCounterValues values() const {
    TransportCounterValues out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = values_[i].load(std::memory_order_relaxed);
    return out;
  }

 private:
  std::array<std::atomic<uint64_t>, kTransportCounterCount> values_{};
};

}  // namespace tern::ctl
