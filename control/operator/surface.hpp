#pragma once
// Everything operators reach inside ternd, put together on the control lcore's EventLoop: the
// operator core (operator.hpp), the control socket (socket_server.hpp) answering through the
// dispatcher, the tracer, and the metrics endpoint (metrics_http.hpp). ternd's control loop calls
// wakeup() after every epoll wait, tick() once a second, and reload() on SIGHUP.

#include <optional>
#include <string>

#include "conf/config.hpp"
#include "control/base/clock.hpp"
#include "control/base/event_loop.hpp"
#include "control/operator/dispatch.hpp"
#include "control/operator/metrics_http.hpp"
#include "control/operator/commands.hpp"
#include "control/operator/socket_server.hpp"
#include "control/operator/tracer.hpp"

namespace tern::ctl {

class OperatorSurface {
 public:
  struct Parts {
    ControlPlane& plane;
    crypto::Engine& engine;
    Logger& logger;
    const dp::Stats& stats;
    const dp::ControlIo& io;
    const TrafficBaselines& baselines;
    dp::Tracing& tracing;
    StreamTransport* streams = nullptr;  // TCP and TLS listeners only
    dp::WorkerSettingsPublisher* worker_settings = nullptr;  // what a reload changes for the workers
  };

  OperatorSurface(EventLoop& loop, Parts parts, std::string config_path, const conf::Config& config, Now now,
                  uint64_t now_ms);

  // Opens the control socket and, unless it is off, the metrics endpoint. false with a message
  // when either cannot be opened.
  bool open(std::string& error);

  void wakeup(Now now, uint64_t now_ms);
  void tick(Now now);
  void reload(const Caller& caller, Now now);

  OperatorCommands& op() { return op_; }
  Tracer& tracer() { return tracer_; }
  const SocketServer& socket() const { return socket_; }

 private:
  void on_line(SocketServer::Client& client, std::string_view line);

  std::string socket_path_;
  std::optional<TransportAddress> metrics_address_;
  Logger& logger_;
  OperatorCommands op_;
  Tracer tracer_;
  Dispatcher dispatcher_;
  SocketServer socket_;
  std::optional<MetricsHttp> metrics_;
  Now now_;
  uint64_t now_ms_;
};

}  // namespace tern::ctl
