#pragma once
// One TCP or TLS client connection as the stream transport holds it: the socket, its TLS session,
// the PROXY header when its listener expects one, the framer cutting its input into TURN
// messages, what waits to be written to it (bounded), and its timestamps. I/O only: what the
// messages mean is the transport's business (stream_transport.cpp).

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "conf/net.hpp"
#include "control/transport/framer.hpp"
#include "control/transport/tls_openssl.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

struct Connection {
  enum class State : uint8_t {
    proxy_header,  // reading the PROXY protocol header
    handshake,     // TLS handshake under way
    open,          // TURN messages both ways
  };
  enum class Io : uint8_t { ok, again, closed };

  Connection(int socket, dp::StreamId stream, ClientTransport how, FramerLimits limits)
      : fd(socket), id(stream), transport(how), framer(limits) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Reads what the socket (through TLS) has into the framer. closed: EOF or an error.
  Io read();
  // Appends bytes to send; writes what the socket takes now. false: the connection failed.
  bool send(const uint8_t* bytes, size_t length);
  // Writes what is waiting. closed: failed; again: bytes remain (wait for EPOLLOUT).
  Io flush();
  size_t unsent() const { return out.size() - out_sent; }

  int fd;
  dp::StreamId id;
  ClientTransport transport;
  State state = State::open;
  SslPtr ssl;                         // TLS only
  StreamFramer framer;
  std::string out;                    // what waits to be written, from out_sent on
  size_t out_sent = 0;
  bool want_write = false;            // EPOLLOUT is armed
  bool reading = true;                // EPOLLIN is armed: false while it may not send more (can_take)
  uint32_t pending_requests = 0;      // passed to the control plane, not answered yet
  TransportAddress peer;              // the TCP peer: the client, or a load balancer
  TransportAddress client;            // the client: peer, or what its PROXY header says
  TransportAddress server;            // our listener
  size_t listener = 0;                // index of the listener it came to
  bool counted_source = false;        // counted against client's per-source limit
  bool in_handshake_count = false;    // counted against stream.max_handshakes
  bool seen_message = false;          // a whole STUN or ChannelData message arrived
  dp::AllocId allocation = dp::kNoAllocation;
  int64_t accepted_ms = 0;
  int64_t last_input_ms = 0;
};

}  // namespace tern::ctl
