#include "control/operator/tracer.hpp"

#include <algorithm>
#include <utility>

#include "control/api/codec.hpp"
#include "control/operator/commands.hpp"
#include "control/operator/trace_records.hpp"

namespace tern::ctl {

Tracer::Tracer(dp::Tracing& tracing, const Logger& logger, crypto::Engine& engine, uint32_t rate)
    : tracing_(tracing), logger_(logger), engine_(engine), rate_(rate) {}

Tracer::~Tracer() {
  if (active()) tracing_.set_trace(std::nullopt);
}

api::Result<api::TraceReply> Tracer::start(const api::TraceRequest& request, const Caller& caller, uint64_t now_ms,
                                           uint64_t client, std::optional<uint64_t> id, Sink sink) {
  const uint32_t seconds = request.seconds.value_or(api::kDefaultTraceSeconds);
  if (seconds == 0 || seconds > api::kMaxTraceSeconds)
    return api::bad_request("seconds must be 1-" + std::to_string(api::kMaxTraceSeconds));
  if (active()) {
    const uint64_t left = ends_ms_ > now_ms ? (ends_ms_ - now_ms + 999) / 1000 : 0;
    return api::Error{api::ErrorCode::busy, "a trace of " + address_->to_string() + " is running (" +
                                                std::to_string(left) + " s left); one trace at a time"};
  }
  address_ = request.address.canonical();
  client_ = client;
  id_ = id;
  sink_ = std::move(sink);
  last_flush_ms_ = last_refill_ms_ = now_ms;
  ends_ms_ = now_ms + uint64_t{seconds} * 1000;
  tokens_ = rate_;
  pending_.clear();
  suppressed_ = total_records_ = total_suppressed_ = 0;
  // Whatever an earlier trace left unread is not this one's.
  while (tracing_.read_trace(scratch_) == scratch_.size()) {
  }
  tracing_.set_trace(address_);
  dataplane_suppressed_ = tracing_.trace_suppressed();
  logger_.line(LogLevel::info, "trace_started")
      .kv("address", *address_)
      .kv("seconds", seconds)
      .kv("uid", caller.uid)
      .kv("pid", int64_t{caller.pid});
  return api::TraceReply{*address_, seconds, rate_};
}

void Tracer::stop(uint64_t client) {
  if (follows(client)) end("client gone", false);
}

void Tracer::observe(const dp::FiveTuple& five_tuple, std::span<const uint8_t> request,
                     std::span<const uint8_t> answer) {
  if (!active()) return;
  if (const auto r = control_decision(*address_, five_tuple, request, answer, engine_)) tracing_.append_trace(*r);
}

void Tracer::collect(uint64_t now_ms) {
  for (;;) {
    const size_t n = tracing_.read_trace(scratch_);
    for (size_t i = 0; i < n; ++i) {
      // Token bucket: `rate_` a second, at most one second's worth saved up.
      tokens_ = std::min<double>(rate_, tokens_ + static_cast<double>(now_ms - last_refill_ms_) * rate_ / 1000.0);
      last_refill_ms_ = now_ms;
      if (tokens_ < 1) {
        ++suppressed_;
        continue;
      }
      tokens_ -= 1;
      pending_.push_back(describe(scratch_[i]));
    }
    if (n < scratch_.size()) break;
  }
}

void Tracer::flush(uint64_t now_ms) {
  last_flush_ms_ = now_ms;
  const uint64_t dataplane = tracing_.trace_suppressed();
  suppressed_ += dataplane - dataplane_suppressed_;
  dataplane_suppressed_ = dataplane;
  if (pending_.empty() && suppressed_ == 0) return;
  api::TraceBatch batch;
  batch.records = std::move(pending_);
  batch.suppressed = suppressed_;
  total_records_ += batch.records.size();
  total_suppressed_ += suppressed_;
  pending_.clear();
  suppressed_ = 0;
  if (!sink_.send(api::encode_event("trace", batch, id_))) end("client gone", false);
}

void Tracer::end(std::string_view reason, bool tell_client) {
  tracing_.set_trace(std::nullopt);
  if (tell_client) {
    sink_.send(api::encode_event("trace_end", api::TraceEnd{std::string(reason), total_records_, total_suppressed_}, id_));
    if (sink_.done) sink_.done();
  }
  logger_.line(LogLevel::info, "trace_ended")
      .kv("address", *address_)
      .kv("reason", reason)
      .kv("records", total_records_)
      .kv("suppressed", total_suppressed_);
  address_.reset();
  sink_ = {};
  pending_.clear();
}

void Tracer::poll(uint64_t now_ms) {
  if (!active()) return;
  collect(now_ms);
  if (now_ms >= ends_ms_) {
    flush(now_ms);
    if (active()) end("elapsed", true);
    return;
  }
  if (now_ms - last_flush_ms_ >= kFlushInterval) flush(now_ms);
}

}  // namespace tern::ctl
