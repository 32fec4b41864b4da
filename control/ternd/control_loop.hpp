#pragma once
// ternd's control lcore: takes the STUN messages the workers punt, answers them through the
// control plane, sends the answers back on the control TX queues, runs the control plane's upkeep
// once a second, serves the operator surface (control socket, metrics, trace) on the same loop,
// re-reads the configuration on SIGHUP and returns when SIGINT or SIGTERM arrives. It sleeps in
// epoll_wait between wakeups (at most 1 ms apart, so the punt rings are drained promptly) and
// never spins.

#include <array>
#include <chrono>

#include "control/transport/mailbox.hpp"
#include "control/turn/control_plane.hpp"
#include "control/base/event_loop.hpp"
#include "control/base/log.hpp"
#include "dataplane/contract/control_io.hpp"

namespace tern::ctl {

class OperatorSurface;

class ControlLoop {
 public:
  // Blocks the signals the service handles in the calling thread and every thread it starts
  // later; call it before the EAL starts its threads, so they arrive only through the signalfd.
  static bool block_signals();

  ControlLoop(ControlPlane& plane, dp::ControlIo& io, Logger& logger);
  ~ControlLoop();
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;

  EventLoop& loop() { return loop_; }
  // The operator surface, built on loop(); served from the next wakeup on.
  void attach(OperatorSurface& surface) { surface_ = &surface; }
  // TCP and TLS clients' requests, from the stream transport's thread; answered on wakeup.
  bool attach(Mailbox& mailbox);
  // Runs until a stop signal (or stop()). false if the loop could not be set up.
  bool run();
  void stop() { running_ = false; }

  Now now() const;
  // Milliseconds on the monotonic clock (the tracer's).
  static uint64_t now_ms();
  // Drains the punt rings once: up to kMaxBurstsPerWakeup bursts. Returns messages handled.
  size_t serve_punts(Now now);
  // Answers the stream clients' requests waiting in the mailbox, and removes the allocations of
  // connections that closed. Returns requests handled.
  size_t serve_streams(Now now);
  void notify_ended_streams();
  void queue_ended_streams();

  static constexpr size_t kBurst = 32;
  static constexpr size_t kMaxBurstsPerWakeup = 64;
  static constexpr std::chrono::milliseconds kWakeup{1};

 private:
  void on_signal();
  void trace_burst(size_t n, size_t answers);

  ControlPlane& plane_;
  dp::ControlIo& io_;
  Logger& logger_;
  EventLoop loop_;
  OperatorSurface* surface_ = nullptr;
  int signal_fd_ = -1;
  bool running_ = false;
  std::array<dp::PuntedMessage, kBurst> punted_{};
  std::array<Request, kBurst> requests_{};
  std::array<Response, kBurst> responses_{};
  Mailbox* mailbox_ = nullptr;
  std::vector<StreamRequest> stream_requests_;
  std::vector<dp::StreamId> closed_streams_;
  std::vector<StreamReply> stream_replies_;
  std::vector<dp::StreamId> ended_streams_;
};

}  // namespace tern::ctl
