#include "control/transport/stream_transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <future>

#include "control/stun/message.hpp"
#include "control/stun/wire.hpp"
#include "control/transport/connection.hpp"
#include "control/transport/proxy_protocol.hpp"

namespace tern::ctl {
namespace {

// epoll's data: a listener's index, a connection's stream id, or one of the loop's own descriptors.
constexpr uint64_t kListenerTag = 1ull << 62;
constexpr uint64_t kStopTag = 1ull << 61;
constexpr uint64_t kRepliesTag = 1ull << 60;
constexpr uint64_t kPumpTag = 1ull << 59;
constexpr size_t kDeliveryBurst = 64;
constexpr int64_t kTimerPeriodMs = 100;

sockaddr_storage socket_address(const TransportAddress& a, socklen_t& length) {
  sockaddr_storage s{};
  if (a.ip.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&s);
    in->sin_family = AF_INET;
    in->sin_port = htons(a.port.value);
    std::memcpy(&in->sin_addr, a.ip.bytes().data(), 4);
    length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(a.port.value);
    std::memcpy(&in6->sin6_addr, a.ip.bytes().data(), 16);
    length = sizeof(sockaddr_in6);
  }
  return s;
}

TransportAddress transport_address(const sockaddr_storage& s) {
  if (s.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&s);
    return {*IpAddress::from_bytes({reinterpret_cast<const uint8_t*>(&in->sin_addr), 4}), Port{ntohs(in->sin_port)}};
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&s);
  const IpAddress ip = *IpAddress::from_bytes({reinterpret_cast<const uint8_t*>(&in6->sin6_addr), 16});
  return {ip.canonical(), Port{ntohs(in6->sin6_port)}};
}

// RFC 8489 §6.2.2 over a stream: a Send indication's DATA (RFC 8656 §11.2) or nothing. Walks the
// attributes of a whole message the framer cut.
std::optional<size_t> send_data_length(std::span<const uint8_t> m) {
  size_t at = stun::kHeaderSize;
  while (at + stun::kAttributeHeaderSize <= m.size()) {
    const uint16_t type = stun::wire::load_u16(m.data() + at);
    const uint16_t length = stun::wire::load_u16(m.data() + at + 2);
    if (type == static_cast<uint16_t>(stun::AttributeType::data)) return length;
    at += stun::kAttributeHeaderSize + stun::wire::padded(length);
  }
  return std::nullopt;
}

}  // namespace

StreamTransportConfig StreamTransportConfig::from(const conf::Config& config) {
  StreamTransportConfig c;
  const auto proxied = [&](const TransportAddress& a) {
    return std::find(config.proxy_protocol.listeners.begin(), config.proxy_protocol.listeners.end(), a) !=
           config.proxy_protocol.listeners.end();
  };
  for (const TransportAddress& a : config.listen.tcp) c.listeners.push_back({a, ClientTransport::tcp, proxied(a)});
  for (const TransportAddress& a : config.listen.tls) c.listeners.push_back({a, ClientTransport::tls, proxied(a)});
  c.proxy_from = config.proxy_protocol.from;
  c.proxy_header_timeout = config.proxy_protocol.header_timeout;
  c.limits = config.stream;
  c.allocation_max = config.lifetimes.allocation_max;
  c.table_size = config.dataplane.table_size;
  return c;
}

TlsSettings tls_settings(const conf::Tls& tls) {
  TlsSettings s;
  for (const conf::TlsCertificate& c : tls.certificates) s.certificates.push_back({c.certificate, c.private_key});
  s.min_version = parse_tls_version(tls.min_version).value_or(TlsVersion::tls1_2);
  s.ciphers = tls.ciphers;
  if (!tls.ciphersuites.empty()) s.ciphersuites = tls.ciphersuites;
  s.session_tickets = tls.session_tickets;
  s.ticket_key_lifetime = tls.ticket_key_lifetime;
  return s;
}

StreamTransport::StreamTransport(StreamTransportConfig config, dp::StreamIo& io, Mailbox& mailbox,
                                 const Logger& logger)
    : config_(std::move(config)), io_(io), mailbox_(mailbox), logger_(logger),
      backpressure_(std::make_unique<std::atomic<uint64_t>[]>(config_.table_size)) {}

StreamTransport::~StreamTransport() { stop(); }

int64_t StreamTransport::now_ms() const {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1000 + t.tv_nsec / 1'000'000;
}

bool StreamTransport::start(std::unique_ptr<TlsContext> tls, std::string& error) {
  tls_ = std::move(tls);
  if (tls_) certificate_expiry_ = tls_->not_after();
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || stop_fd_ < 0) {
    error = std::string("the stream transport's epoll: ") + std::strerror(errno);
    return false;
  }
  // The thread opens its listeners in ternd's namespace and reports back before it serves: through
  // a promise, whose state outlives this frame (a condition variable here would be notified by the
  // thread after start() may already have returned and its stack been reused).
  std::promise<std::string> opened;
  std::future<std::string> outcome = opened.get_future();
  thread_ = std::thread([this, opened = std::move(opened)]() mutable {
    pthread_setname_np(pthread_self(), kThreadName);  // top -H, /proc/PID/task/*/comm
    std::string e;
    const bool ok = io_.attach(e) && setns(io_.netns(), CLONE_NEWNET) == 0 && open_listeners(e);
    if (!ok && e.empty()) e = std::string("cannot enter ternd's network namespace: ") + std::strerror(errno);
    if (ok) running_ = true;  // before start() returns, so that a stop() right after it is seen
    opened.set_value(ok ? std::string() : e);
    if (ok) loop();
    for (auto& [id, c] : connections_) mailbox_.closed(id);
    connections_.clear();
    io_.detach();
  });
  error = outcome.get();
  if (!error.empty()) {
    thread_.join();
    return false;
  }
  return true;
}

void StreamTransport::stop() {
  if (thread_.joinable()) {
    running_ = false;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  for (auto& l : listening_)
    if (l->fd >= 0) ::close(l->fd);
  listening_.clear();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  epoll_fd_ = stop_fd_ = -1;
}

bool StreamTransport::open_listeners(std::string& error) {
  for (size_t i = 0; i < config_.listeners.size(); ++i) {
    const StreamListener& sl = config_.listeners[i];
    auto l = std::make_unique<Listening>();
    l->listener = sl;
    socklen_t length = 0;
    const sockaddr_storage addr = socket_address(sl.address, length);
    l->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int on = 1;
    if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (addr.ss_family == AF_INET6 && setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
        bind(l->fd, reinterpret_cast<const sockaddr*>(&addr), length) != 0 || listen(l->fd, 1024) != 0) {
      error = "cannot listen on " + sl.address.to_string() + " (" + std::string(to_string(sl.transport)) +
              "): " + std::strerror(errno);
      if (l->fd >= 0) ::close(l->fd);
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerTag | i;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l->fd, &ev);
    listening_.push_back(std::move(l));
  }
  for (const auto& [fd, tag] : {std::pair{stop_fd_, kStopTag}, {mailbox_.replies_fd(), kRepliesTag},
                                {io_.pump_fd(), kPumpTag}}) {
    if (fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  for (const auto& l : listening_)
    logger_.line(LogLevel::notice, "stream_listener")
        .kv("address", l->listener.address)
        .kv("transport", to_string(l->listener.transport))
        .kv("proxy_protocol", l->listener.proxy ? "yes" : "no");
  return true;
}

// Busy, it goes round without sleeping; idle, it sleeps in epoll until a descriptor is ready or
// kIdlePoll has passed (the workers' rings have no descriptor to wake it).
void StreamTransport::loop() {
  bool busy = true;
  epoll_event events[64];
  while (running_) {
    const timespec idle{0, std::chrono::nanoseconds(kIdlePoll).count()};
    const timespec none{0, 0};
    const int n = epoll_pwait2(epoll_fd_, events, 64, busy ? &none : &idle, nullptr);
    busy = n > 0;
    for (int i = 0; i < n && running_; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag & kListenerTag) {
        on_accept(*listening_[tag & ~kListenerTag]);
      } else if (tag == kRepliesTag) {
        take_replies();
      } else if (tag == kStopTag) {
        uint64_t wakeups = 0;  // stop() or reload_tls(): the checks below see to them
        [[maybe_unused]] const ssize_t got = ::read(stop_fd_, &wakeups, sizeof wakeups);
      } else if (tag == kPumpTag) {
        continue;  // pump() below
      } else {
        on_event(dp::StreamId{static_cast<uint32_t>(tag)}, events[i].events);
      }
    }
    if (io_.pump() > 0) busy = true;
    const size_t before = deliveries_.size();
    deliver();
    if (before != 0 || !deliveries_.empty()) busy = true;
    if (reload_requested_.exchange(false, std::memory_order_acq_rel)) apply_tls_reload();
    const int64_t now = now_ms();
    if (now - last_timers_ms_ >= kTimerPeriodMs) {
      last_timers_ms_ = now;
      check_timers(now);
      if (tls_) tls_->tick(now / 1000);
    }
  }
}

void StreamTransport::on_accept(Listening& l) {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = accept4(l.fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a connection that went before we took it
    const TransportAddress from = transport_address(peer);
    const bool tls = l.listener.transport == ClientTransport::tls;
    auto refuse = [&](TransportCounter why) {
      counters_.add(why);
      linger no_wait{1, 0};  // RST: the client learns at once, nothing lingers here
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_wait, sizeof no_wait);
      ::close(fd);
    };
    if (connections_.size() >= config_.limits.max_connections) {
      refuse(TransportCounter::refused_connections);
      continue;
    }
    if (l.listener.proxy && !proxy_source_allowed(from.ip, config_.proxy_from)) {
      refuse(TransportCounter::proxy_refused_source);
      continue;
    }
    // The source a limit counts: the client's, known now unless a PROXY header will name it.
    if (!l.listener.proxy && source_count(from.ip) >= config_.limits.max_connections_per_source) {
      refuse(TransportCounter::refused_per_source);
      continue;
    }
    if (tls && (!tls_ || handshakes_ >= config_.limits.max_handshakes)) {
      refuse(TransportCounter::refused_handshakes);
      continue;
    }
    do {
      next_stream_ = next_stream_ == UINT32_MAX ? 1 : next_stream_ + 1;
    } while (connections_.count(dp::StreamId{next_stream_}) > 0);
    const dp::StreamId id{next_stream_};
    auto c = std::make_unique<Connection>(
        fd, id, l.listener.transport,
        FramerLimits{config_.limits.max_message, io_.max_datagram()});
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // media: latency over bytes
    c->peer = c->client = from;
    for (size_t i = 0; i < listening_.size(); ++i)
      if (listening_[i].get() == &l) c->listener = i;
    c->server = l.listener.address;
    sockaddr_storage local{};
    socklen_t local_length = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) == 0) c->server = transport_address(local);
    c->accepted_ms = c->last_input_ms = now_ms();
    if (tls) {
      c->ssl = tls_->new_connection();
      if (!c->ssl || SSL_set_fd(c->ssl.get(), fd) != 1) {
        c->fd = -1;  // refuse() closes it
        refuse(TransportCounter::tls_failed_other);
        continue;
      }
      c->in_handshake_count = true;
      ++handshakes_;
    }
    if (!l.listener.proxy) {
      ++per_source_[from.ip];
      c->counted_source = true;
    }
    c->state = l.listener.proxy ? Connection::State::proxy_header
               : tls            ? Connection::State::handshake
                                : Connection::State::open;
    counters_.add(tls ? TransportCounter::tls_accepted : TransportCounter::tcp_accepted);
    ++l.connections;
    ++open_connections_;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = static_cast<uint32_t>(id);
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    Connection& ref = *c;
    connections_.emplace(id, std::move(c));
    step(ref);
  }
}

void StreamTransport::on_event(dp::StreamId id, uint32_t events) {
  const auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  if ((events & EPOLLOUT) && c.state == Connection::State::open) {
    if (c.flush() == Connection::Io::closed) return close(c, TransportCounter::closed_by_client);
    arm_write(c);
    if (resume(c)) return;
  }
  if (!c.reading) {
    if (events & (EPOLLHUP | EPOLLERR)) close(c, TransportCounter::closed_by_client);
    return;
  }
  // A handshake that waited to write goes on as the socket drains, like one waiting to read.
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) || c.state != Connection::State::open) step(c);
}

// As far as the connection can go now: its PROXY header, its TLS handshake, then its messages.
void StreamTransport::step(Connection& c) {
  const dp::StreamId id = c.id;
  if (c.state == Connection::State::proxy_header && !read_proxy_header(c)) return;
  if (c.state == Connection::State::handshake && !handshake(c)) return;
  if (c.state != Connection::State::open) return;
  if (c.want_write) arm_write(c);  // a handshake's EPOLLOUT is not wanted any more
  if (!c.reading) return;
  const auto r = c.read();
  take_messages(c);  // what arrived before an EOF still counts
  if (connections_.count(id) == 0) return;
  if (r == Connection::Io::closed) close(c, TransportCounter::closed_by_client);
}

// The PROXY protocol's header, read with MSG_PEEK until it is whole and then exactly, so that the
// first byte after it (the client's, or its TLS ClientHello) stays in the socket for what follows.
// false: not done yet, or the connection closed.
bool StreamTransport::read_proxy_header(Connection& c) {
  uint8_t buffer[kMaxProxyHeader];
  const ssize_t n = recv(c.fd, buffer, sizeof buffer, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    close(c, TransportCounter::closed_by_client);
    return false;
  }
  if (n < 0) return false;
  const ProxyHeaderResult h = parse_proxy_header({buffer, static_cast<size_t>(n)});
  if (h.status == ProxyHeaderResult::Status::need_more) return false;
  if (h.status == ProxyHeaderResult::Status::invalid || (h.command == ProxyCommand::proxy && !h.tcp())) {
    close(c, TransportCounter::proxy_invalid);
    return false;
  }
  [[maybe_unused]] const ssize_t taken = recv(c.fd, buffer, h.size, MSG_DONTWAIT);
  // LOCAL (a load balancer's health check): the connection's own addresses stand.
  if (h.addresses) {
    c.client = {h.addresses->source.ip.canonical(), h.addresses->source.port};
    c.server = {h.addresses->destination.ip.canonical(), h.addresses->destination.port};
  }
  if (source_count(c.client.ip) >= config_.limits.max_connections_per_source) {
    close(c, TransportCounter::refused_per_source);
    return false;
  }
  ++per_source_[c.client.ip];
  c.counted_source = true;
  c.state = c.ssl ? Connection::State::handshake : Connection::State::open;
  c.accepted_ms = now_ms();  // the handshake's and first message's clocks start now
  return true;
}

bool StreamTransport::handshake(Connection& c) {
  const TlsHandshakeStep s = TlsContext::handshake(c.ssl.get());
  switch (s.status) {
    case TlsHandshakeStep::Status::done:
      if (c.in_handshake_count) {
        c.in_handshake_count = false;
        --handshakes_;
      }
      counters_.add(TransportCounter::tls_handshakes);
      if (SSL_session_reused(c.ssl.get())) counters_.add(TransportCounter::tls_resumed);
      c.state = Connection::State::open;
      c.accepted_ms = now_ms();
      return true;
    case TlsHandshakeStep::Status::want_read:
      return false;
    case TlsHandshakeStep::Status::want_write:
      c.want_write = true;
      update_events(c);
      return false;
    case TlsHandshakeStep::Status::failed:
      break;
  }
  logger_.line(LogLevel::info, "tls_handshake_failed")
      .kv("client", c.client)
      .kv("reason", to_string(s.failure))
      .kv("detail", s.detail);
  close(c, s.failure == TlsFailure::alpn_refused ? TransportCounter::tls_failed_alpn
           : s.failure == TlsFailure::no_shared_cipher || s.failure == TlsFailure::no_shared_version
               ? TransportCounter::tls_failed_version_or_cipher
               : TransportCounter::tls_failed_other);
  return false;
}

void StreamTransport::take_messages(Connection& c) {
  const dp::StreamId id = c.id;
  for (;;) {
    if (!can_take(c)) {
      // A client that sends requests faster than they are answered, or does not read the answers:
      // nothing more is read or taken from it until they are (its requests wait in its socket,
      // bounded by the kernel).
      counters_.add(TransportCounter::reading_paused);
      c.reading = false;
      update_events(c);
      return;
    }
    StreamFramer::Frame f;
    switch (c.framer.next(f)) {
      case StreamFramer::Next::frame:
        // ChannelData needs an allocation, which needs a request first: a connection that starts
        // with bytes that read as ChannelData ("GET ", "SSH-") is not a TURN client.
        if (!c.seen_message && f.kind == StreamFramer::Kind::channel_data) return close(c, TransportCounter::not_turn);
        c.seen_message = true;
        c.last_input_ms = now_ms();
        if (f.kind == StreamFramer::Kind::channel_data)
          relay(c, f.bytes, true);
        else
          on_stun(c, f.bytes);
        if (connections_.count(id) == 0) return;
        c.framer.consume_frame();
        continue;
      case StreamFramer::Next::oversized:
        if (!c.seen_message) return close(c, TransportCounter::not_turn);
        c.last_input_ms = now_ms();
        counters_.add(TransportCounter::datagram_too_big);
        continue;
      case StreamFramer::Next::need_more:
        return;
      case StreamFramer::Next::too_big:
        return close(c, TransportCounter::message_too_big);
      case StreamFramer::Next::invalid:
        return close(c, TransportCounter::not_turn);
    }
  }
}

// RFC 8489 §5: requests go to the control plane; a Send indication (RFC 8656 §11.2) is data;
// other indications and responses from a client mean nothing to a server.
void StreamTransport::on_stun(Connection& c, std::span<const uint8_t> message) {
  const auto type = stun::MessageType::decode(stun::wire::load_u16(message.data()));
  if (type.cls == stun::MessageClass::indication && type.method == stun::Method::send) return relay(c, message, false);
  if (type.cls != stun::MessageClass::request) {
    counters_.add(TransportCounter::ignored);
    return;
  }
  StreamRequest r;
  r.stream = c.id;
  r.five_tuple = {c.client, c.server, dp::Transport::tcp};
  r.transport = c.transport;
  r.message.assign(message.begin(), message.end());
  if (!mailbox_.request(std::move(r))) {
    counters_.add(TransportCounter::requests_refused);
    return;
  }
  ++c.pending_requests;
  counters_.add(TransportCounter::requests);
}

void StreamTransport::relay(Connection& c, std::span<const uint8_t> message, bool channel_data) {
  if (c.allocation == dp::kNoAllocation) {
    counters_.add(TransportCounter::no_allocation);
    return;
  }
  if (!channel_data) {
    const auto data = send_data_length(message);
    if (data && *data > io_.max_datagram()) {
      counters_.add(TransportCounter::datagram_too_big);
      return;
    }
  }
  const dp::RelayResult r = io_.relay(c.allocation, c.id, message);
  if (r == dp::RelayResult::queued) {
    counters_.add(TransportCounter::relayed);
    return;
  }
  counters_.add(r == dp::RelayResult::too_big ? TransportCounter::datagram_too_big : TransportCounter::relay_dropped);
}

// peer_data: what the workers framed for the client, dropped when the connection already holds
// stream.buffer bytes it could not write (a client that does not read costs that much at most).
// Answers to its requests are written whatever it holds: once they reach stream.buffer, the
// connection is not read any more until they drain (take_messages), so they stay bounded too.
void StreamTransport::write(Connection& c, const uint8_t* bytes, size_t length, bool peer_data) {
  if (peer_data && c.unsent() + length > config_.limits.buffer) {
    counters_.add(TransportCounter::delivery_backpressure);
    if (c.allocation != dp::kNoAllocation && dp::slot_index(c.allocation) < config_.table_size) {
      auto& n = backpressure_[dp::slot_index(c.allocation)];
      n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    return;
  }
  if (!c.send(bytes, length)) return close(c, TransportCounter::closed_by_client);
  counters_.add(peer_data ? TransportCounter::delivered : TransportCounter::replies);
  arm_write(c);
}

// Whether more of a connection's requests may go to the control plane: few enough in flight, and
// its answers not piling up unread.
bool StreamTransport::can_take(const Connection& c) const {
  return c.pending_requests < kMaxPendingRequests && c.unsent() < config_.limits.buffer;
}

// A paused connection is read again once it may send more; true when that closed it.
bool StreamTransport::resume(Connection& c) {
  if (c.reading || !can_take(c)) return false;
  const dp::StreamId id = c.id;
  c.reading = true;
  update_events(c);
  step(c);
  return connections_.count(id) == 0;
}

void StreamTransport::arm_write(Connection& c) {
  const bool want = c.unsent() > 0;
  if (want == c.want_write) return;
  c.want_write = want;
  update_events(c);
}

// EPOLLIN while the connection is read, EPOLLOUT while bytes wait to be written.
void StreamTransport::update_events(Connection& c) {
  epoll_event ev{};
  ev.events = (c.reading ? EPOLLIN | EPOLLRDHUP : 0u) | (c.want_write ? EPOLLOUT : 0u);
  ev.data.u64 = static_cast<uint32_t>(c.id);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void StreamTransport::close(Connection& c, TransportCounter reason) {
  counters_.add(reason);
  const dp::StreamId id = c.id;
  if (c.in_handshake_count) --handshakes_;
  if (c.counted_source) {
    const auto it = per_source_.find(c.client.ip);
    if (it != per_source_.end() && --it->second == 0) per_source_.erase(it);
  }
  if (c.listener < listening_.size() && listening_[c.listener]->connections > 0) --listening_[c.listener]->connections;
  --open_connections_;
  if (c.allocation != dp::kNoAllocation) counters_.add(TransportCounter::allocations_closed);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  connections_.erase(id);  // closes the socket
  mailbox_.closed(id);     // the control plane removes its allocation
}

// Peers' data the workers framed for stream clients.
void StreamTransport::deliver() {
  deliveries_.resize(kDeliveryBurst);
  for (;;) {
    const size_t n = io_.receive(deliveries_);
    for (size_t i = 0; i < n; ++i) {
      const dp::StreamDelivery& d = deliveries_[i];
      const auto it = connections_.find(d.stream);
      if (it == connections_.end() || it->second->allocation != d.allocation)
        counters_.add(TransportCounter::delivery_no_connection);
      else
        write(*it->second, d.bytes.data(), d.bytes.size(), true);
      io_.release(d.handle);
    }
    if (n < deliveries_.size()) break;
  }
  deliveries_.clear();
}

// The control plane's answers; an Allocate's success names the allocation the connection's data
// goes to from now on.
void StreamTransport::take_replies() {
  mailbox_.take_replies(replies_);
  for (StreamReply& r : replies_) {
    const auto it = connections_.find(r.stream);
    if (it == connections_.end()) continue;
    Connection& c = *it->second;
    if (r.allocation_ended) {
      c.allocation = dp::kNoAllocation;
      continue;
    }
    if (c.pending_requests > 0) --c.pending_requests;
    if (r.allocation != dp::kNoAllocation && dp::slot_index(r.allocation) < config_.table_size) {
      c.allocation = r.allocation;
      backpressure_[dp::slot_index(r.allocation)].store(0, std::memory_order_relaxed);
    }
    if (r.message.empty()) {
      resume(c);
      continue;
    }
    write(c, r.message.data(), r.message.size(), false);
    if (const auto still = connections_.find(r.stream); still != connections_.end()) resume(*still->second);
  }
  replies_.clear();
}

void StreamTransport::check_timers(int64_t now) {
  const auto& limits = config_.limits;
  const int64_t handshake = std::chrono::milliseconds(limits.handshake_timeout).count();
  const int64_t first = std::chrono::milliseconds(limits.first_message_timeout).count();
  const int64_t idle = std::chrono::milliseconds(limits.idle_timeout).count();
  // With an allocation, input comes at least as often as its refreshes: silence past the longest
  // lifetime means the allocation is gone.
  const int64_t allocated = std::chrono::milliseconds(config_.allocation_max).count() + 60'000;
  const int64_t proxy = std::chrono::milliseconds(config_.proxy_header_timeout).count();
  std::vector<std::pair<dp::StreamId, TransportCounter>> expired;
  for (const auto& [id, cp] : connections_) {
    const Connection& c = *cp;
    if (c.state == Connection::State::proxy_header && now - c.accepted_ms > proxy)
      expired.emplace_back(id, TransportCounter::proxy_timeout);
    else if (c.state == Connection::State::handshake && now - c.accepted_ms > handshake)
      expired.emplace_back(id, TransportCounter::handshake_timeout);
    else if (c.state == Connection::State::open && !c.seen_message && now - c.accepted_ms > first)
      expired.emplace_back(id, TransportCounter::first_message_timeout);
    else if (c.state == Connection::State::open && c.seen_message &&
             now - c.last_input_ms > (c.allocation == dp::kNoAllocation ? idle : allocated))
      expired.emplace_back(id, TransportCounter::idle_timeout);
  }
  for (const auto& [id, why] : expired) close(*connections_.at(id), why);
}

void StreamTransport::reload_tls(TlsSettings settings) {
  {
    std::lock_guard lock(reload_mutex_);
    pending_tls_ = std::move(settings);
  }
  // Wakes the loop (as stop() does, with running_ still set): the new context serves the next
  // handshake at once, not at the next timer tick.
  reload_requested_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
}

void StreamTransport::apply_tls_reload() {
  std::optional<TlsSettings> settings;
  {
    std::lock_guard lock(reload_mutex_);
    settings.swap(pending_tls_);
  }
  if (!settings) return;
  std::string error;
  auto next = TlsContext::create(*settings, error, tls_.get());
  if (!next) {
    logger_.line(LogLevel::error, "tls_reload_failed").kv("reason", error);
    return;
  }
  tls_ = std::move(next);
  std::lock_guard lock(reload_mutex_);
  certificate_expiry_ = tls_->not_after();
  logger_.line(LogLevel::notice, "tls_reloaded");
}

uint32_t StreamTransport::source_count(const IpAddress& ip) const {
  const auto it = per_source_.find(ip);
  return it == per_source_.end() ? 0 : it->second;
}

uint64_t StreamTransport::backpressure_drops(dp::AllocId id) const {
  return dp::slot_index(id) < config_.table_size ? backpressure_[dp::slot_index(id)].load(std::memory_order_relaxed) : 0;
}

StreamStatus StreamTransport::status() const {
  StreamStatus s;
  for (const auto& l : listening_) s.listeners.push_back({l->listener, l->connections.load()});
  s.connections = open_connections_.load();
  s.handshakes = handshakes_.load();
  {
    std::lock_guard lock(const_cast<std::mutex&>(reload_mutex_));
    s.certificate_expiry = certificate_expiry_;
  }
  s.counters = counters_.values();
  s.exception = io_.counters();
  return s;
}

}  // namespace tern::ctl
