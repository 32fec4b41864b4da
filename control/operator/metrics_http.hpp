#pragma once
// The metrics endpoint: GET /metrics (Prometheus text format 0.0.4) and GET /healthz over HTTP on
// `control.metrics`, served by GNU libmicrohttpd on the control lcore's EventLoop. libmicrohttpd
// runs without threads of its own (external epoll mode): its epoll descriptor sits in our loop and
// MHD_run() does the work when it is ready, never blocking. Its connection limits and timeout
// bound what slow or stuck scrapers can hold: they are cut off, and the control plane never waits
// for them.

#include <functional>
#include <string>

#include "conf/net.hpp"
#include "control/base/event_loop.hpp"
#include "control/base/log.hpp"

struct MHD_Daemon;

namespace tern::ctl {

class MetricsHttp {
 public:
  struct Limits {
    unsigned connections = 16;
    unsigned per_ip = 8;
    unsigned timeout = 10;          // seconds a connection may take, idle or slow
    size_t memory = 32 * 1024;      // per connection, for the request headers
  };
  using Render = std::function<std::string()>;

  MetricsHttp(EventLoop& loop, const Logger& logger, Render render, Limits limits);
  MetricsHttp(EventLoop& loop, const Logger& logger, Render render)
      : MetricsHttp(loop, logger, std::move(render), Limits{}) {}
  ~MetricsHttp();
  MetricsHttp(const MetricsHttp&) = delete;
  MetricsHttp& operator=(const MetricsHttp&) = delete;

  bool open(const TransportAddress& address, std::string& error);
  // Connection timeouts; call about once a second.
  void tick();

  uint64_t scrapes() const { return scrapes_; }
  // The port it listens on (the one given, or the one the system chose for port 0).
  uint16_t port() const;

 private:
  friend struct MetricsHttpAccess;
  EventLoop& loop_;
  const Logger& logger_;
  Render render_;
  Limits limits_;
  MHD_Daemon* daemon_ = nullptr;
  int epoll_fd_ = -1;
  uint64_t scrapes_ = 0;
};

}  // namespace tern::ctl
