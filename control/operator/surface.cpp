#include "control/operator/surface.hpp"

#include "control/api/codec.hpp"

namespace tern::ctl {

OperatorSurface::OperatorSurface(EventLoop& loop, Parts parts, std::string config_path, const conf::Config& config,
                                 Now now, uint64_t now_ms)
    : socket_path_(config.control.socket),
      metrics_address_(config.control.metrics),
      logger_(parts.logger),
      op_(parts.plane, parts.engine, parts.logger, parts.stats, parts.io, parts.baselines, std::move(config_path),
          config, now),
      tracer_(parts.tracing, parts.logger, parts.engine),
      dispatcher_(op_, tracer_, parts.logger),
      socket_(loop, parts.logger, [this](SocketServer::Client& c, std::string_view line) { on_line(c, line); },
              SocketServer::Limits{.max_line = api::kMaxRequestLine}),
      now_(now),
      now_ms_(now_ms) {
  op_.set_streams(parts.streams);
  op_.set_worker_settings(parts.worker_settings);
  socket_.on_close([this](uint64_t client) { tracer_.stop(client); });
  socket_.set_time(now.mono);
  if (metrics_address_)
    metrics_.emplace(loop, parts.logger, [this] { return render_metrics(op_.metrics(now_)); });
}

bool OperatorSurface::open(std::string& error) {
  if (!socket_.open(socket_path_, error)) return false;
  if (metrics_ && !metrics_->open(*metrics_address_, error)) return false;
  auto line = logger_.line(LogLevel::notice, "operator_surface");
  line.kv("socket", socket_path_);
  if (metrics_address_)
    line.kv("metrics", *metrics_address_);
  else
    line.kv("metrics", "off");
  return true;
}

void OperatorSurface::on_line(SocketServer::Client& client, std::string_view line) {
  const Caller caller{client.uid(), client.pid(), "socket"};
  const uint64_t id = client.id();
  Tracer::Sink sink{
      [this, id](std::string_view text) {
        SocketServer::Client* c = socket_.find(id);
        return c != nullptr && c->send(text);
      },
      [this, id] {
        if (SocketServer::Client* c = socket_.find(id)) c->set_streaming(false);
      },
  };
  client.send(dispatcher_.answer(line, caller, now_, now_ms_, id, std::move(sink)));
  if (tracer_.follows(id)) client.set_streaming(true);
}

void OperatorSurface::wakeup(Now now, uint64_t now_ms) {
  now_ = now;
  now_ms_ = now_ms;
  tracer_.poll(now_ms);
}

void OperatorSurface::tick(Now now) {
  op_.tick(now);
  socket_.tick(now.mono);
  if (metrics_) metrics_->tick();
}

void OperatorSurface::reload(const Caller& caller, Now now) {
  const auto r = op_.handle(api::ReloadRequest{}, caller, now);
  if (!r) {
    auto line = logger_.line(LogLevel::error, "reload_failed");
    line.kv("message", r.error().message);
    for (const auto& d : r.error().details) line.kv("error", d);
  }
}

}  // namespace tern::ctl
