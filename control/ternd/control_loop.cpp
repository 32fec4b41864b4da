#include "control/ternd/control_loop.hpp"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <ctime>

#include "control/operator/surface.hpp"

namespace tern::ctl {
namespace {

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// Blocked in every thread but the stream transport's, which takes them: net_tap signals its
// RX queue's readiness with one, and only the thread that polls it may handle it.
sigset_t realtime_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) sigaddset(&set, s);
  return set;
}

}  // namespace

bool ControlLoop::block_signals() {
  const sigset_t set = handled_signals();
  const sigset_t realtime = realtime_signals();
  // A peer gone from under a TLS write is an error to handle, not a reason to die.
  signal(SIGPIPE, SIG_IGN);
  return pthread_sigmask(SIG_BLOCK, &set, nullptr) == 0 && pthread_sigmask(SIG_BLOCK, &realtime, nullptr) == 0;
}

bool ControlLoop::attach(Mailbox& mailbox) {
  mailbox_ = &mailbox;
  return loop_.add(mailbox.requests_fd(), EPOLLIN, [this](uint32_t) { serve_streams(now()); });
}

// Connections whose allocation went without them (deleted, expired, killed) hear of it: their data
// is no longer relayed and the idle timeout applies to them again.
void ControlLoop::notify_ended_streams() {
  if (mailbox_ == nullptr) return;
  queue_ended_streams();
  if (!stream_replies_.empty()) mailbox_->reply(stream_replies_);
}

void ControlLoop::queue_ended_streams() {
  plane_.take_ended_streams(ended_streams_);
  for (const dp::StreamId stream : ended_streams_) stream_replies_.push_back({stream, {}, dp::kNoAllocation, true});
  ended_streams_.clear();
}

size_t ControlLoop::serve_streams(Now now) {
  if (mailbox_ == nullptr) return 0;
  mailbox_->take_requests(stream_requests_, closed_streams_);
  size_t handled = 0;
  for (size_t first = 0; first < stream_requests_.size(); first += kBurst) {
    const size_t n = std::min(kBurst, stream_requests_.size() - first);
    for (size_t i = 0; i < n; ++i) {
      const StreamRequest& r = stream_requests_[first + i];
      requests_[i] = Request{r.five_tuple, r.message, r.transport, r.stream};
    }
    const size_t answers = plane_.handle({requests_.data(), n}, now, responses_);
    std::array<bool, kBurst> answered{};
    for (size_t k = 0; k < answers; ++k) {
      const Response& a = responses_[k];
      answered[a.request] = true;
      stream_replies_.push_back({stream_requests_[first + a.request].stream,
                                 std::vector<uint8_t>(a.bytes.begin(), a.bytes.end()), a.allocation});
    }
    // A request left unanswered (rate-limited, malformed) still gets its empty reply: the transport
    // counts each connection's requests in flight and needs every one back.
    for (size_t i = 0; i < n; ++i)
      if (!answered[i]) stream_replies_.push_back({stream_requests_[first + i].stream, {}, dp::kNoAllocation});
    if (surface_ != nullptr && surface_->tracer().active())
      for (size_t i = 0; i < n; ++i) {
        std::span<const uint8_t> answer;
        for (size_t k = 0; k < answers; ++k)
          if (responses_[k].request == i) answer = responses_[k].bytes;
        surface_->tracer().observe(requests_[i].five_tuple, requests_[i].bytes, answer);
      }
    handled += n;
  }
  // The connections that closed, after their requests: each was queued before its connection's
  // close, so an Allocate followed at once by the close leaves no allocation behind.
  for (const dp::StreamId stream : closed_streams_) plane_.stream_closed(stream);
  // After the answers: a Refresh 0's success reaches the client before its connection hears the
  // allocation went.
  queue_ended_streams();
  mailbox_->reply(stream_replies_);
  return handled;
}

ControlLoop::ControlLoop(ControlPlane& plane, dp::ControlIo& io, Logger& logger)
    : plane_(plane), io_(io), logger_(logger) {}

ControlLoop::~ControlLoop() {
  if (signal_fd_ >= 0) {
    loop_.remove(signal_fd_);
    close(signal_fd_);
  }
}

Now ControlLoop::now() const {
  timespec wall{};
  clock_gettime(CLOCK_REALTIME, &wall);
  return Now{io_.now(), static_cast<int64_t>(wall.tv_sec)};
}

uint64_t ControlLoop::now_ms() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000 + static_cast<uint64_t>(t.tv_nsec) / 1'000'000;
}

void ControlLoop::on_signal() {
  signalfd_siginfo info{};
  while (read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    const int signo = static_cast<int>(info.ssi_signo);
    logger_.line(LogLevel::notice, "signal")
        .kv("signal", strsignal(signo))
        .kv("uid", uint64_t{info.ssi_uid})
        .kv("pid", uint64_t{info.ssi_pid});
    if (signo == SIGINT || signo == SIGTERM) running_ = false;
    if (signo == SIGHUP && surface_ != nullptr)
      surface_->reload({info.ssi_uid, static_cast<int32_t>(info.ssi_pid), "SIGHUP"}, now());
  }
}

// The control plane's decisions on a burst, for a running trace.
void ControlLoop::trace_burst(size_t n, size_t answers) {
  Tracer& tracer = surface_->tracer();
  for (size_t i = 0; i < n; ++i) {
    std::span<const uint8_t> answer;
    for (size_t k = 0; k < answers; ++k)
      if (responses_[k].request == i) answer = responses_[k].bytes;
    tracer.observe(punted_[i].five_tuple, punted_[i].message, answer);
  }
}

size_t ControlLoop::serve_punts(Now now) {
  size_t handled = 0;
  for (size_t burst = 0; burst < kMaxBurstsPerWakeup; ++burst) {
    const size_t n = io_.receive(punted_);
    if (n == 0) break;
    for (size_t i = 0; i < n; ++i) requests_[i] = Request{punted_[i].five_tuple, punted_[i].message};
    const size_t answers = plane_.handle({requests_.data(), n}, now, responses_);
    for (size_t k = 0; k < answers; ++k) {
      const Response& r = responses_[k];
      const dp::SendResult sent = io_.reply(punted_[r.request], r.bytes);
      if (sent != dp::SendResult::sent)
        logger_.line(LogLevel::debug, "reply_not_sent")
            .kv(punted_[r.request].five_tuple)
            .kv("result", dp::to_string(sent));
    }
    if (surface_ != nullptr && surface_->tracer().active()) trace_burst(n, answers);
    for (size_t i = 0; i < n; ++i) io_.release(punted_[i].handle);
    handled += n;
    if (n < kBurst) break;
  }
  return handled;
}

bool ControlLoop::run() {
  const sigset_t set = handled_signals();
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (!loop_.ok() || signal_fd_ < 0 ||
      !loop_.add(signal_fd_, EPOLLIN, [this](uint32_t) { on_signal(); })) {
    logger_.line(LogLevel::error, "control_loop_failed").kv("reason", "epoll or signalfd");
    return false;
  }
  running_ = true;
  Now last_tick = now();
  while (running_) {
    loop_.poll(kWakeup);
    const Now t = now();
    const uint64_t ms = now_ms();
    serve_punts(t);
    if (surface_ != nullptr) surface_->wakeup(t, ms);
    if (t.mono != last_tick.mono) {
      plane_.tick(t);
      if (surface_ != nullptr) surface_->tick(t);
      last_tick = t;
    }
    notify_ended_streams();
  }
  return true;
}

}  // namespace tern::ctl
