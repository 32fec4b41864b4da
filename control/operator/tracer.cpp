#include "control/operator/tracer.hpp"

#include <algorithm>
#include <utility>

#include "control/api/codec.hpp"
#include "control/operator/operator.hpp"
#include "control/operator/trace_punt.hpp"

namespace tern::ctl {

Tracer::Tracer(const Logger& logger, crypto::Engine& engine, uint32_t rate)
    : logger_(logger), engine_(engine), rate_(rate) {}

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
  started_ms_ = last_flush_ms_ = last_refill_ms_ = now_ms;
  ends_ms_ = now_ms + uint64_t{seconds} * 1000;
  tokens_ = rate_;
  pending_.clear();
  suppressed_ = total_records_ = total_suppressed_ = 0;
  logger_.line(LogLevel::info, "trace_started")
      .kv("address", *address_)
      .kv("seconds", seconds)
      .kv("uid", caller.uid)
      .kv("pid", int64_t{caller.pid});
  return api::TraceReply{*address_, seconds, rate_};
}

void Tracer::stop(uint64_t client) {
  if (!active() || client != client_) return;
  logger_.line(LogLevel::info, "trace_stopped").kv("address", *address_).kv("reason", "client gone");
  address_.reset();
  sink_ = {};
  pending_.clear();
}

void Tracer::add(api::TraceRecord record, uint64_t now_ms) {
  // Token bucket: `rate_` a second, at most one second's worth saved up.
  tokens_ = std::min<double>(rate_, tokens_ + static_cast<double>(now_ms - last_refill_ms_) * rate_ / 1000.0);
  last_refill_ms_ = now_ms;
  if (tokens_ < 1) {
    ++suppressed_;
    return;
  }
  tokens_ -= 1;
  pending_.push_back(std::move(record));
}

void Tracer::observe(const dp::FiveTuple& five_tuple, std::span<const uint8_t> request,
                     std::span<const uint8_t> answer, uint64_t now_ms) {
  if (!active()) return;
  const double time = static_cast<double>(now_ms - started_ms_) / 1000.0;
  if (auto record = punt_record(*address_, five_tuple, request, answer, time, engine_)) add(std::move(*record), now_ms);
}

void Tracer::flush(uint64_t now_ms) {
  last_flush_ms_ = now_ms;
  if (pending_.empty() && suppressed_ == 0) return;
  api::TraceBatch batch;
  batch.records = std::move(pending_);
  batch.suppressed = suppressed_;
  total_records_ += batch.records.size();
  total_suppressed_ += suppressed_;
  pending_.clear();
  suppressed_ = 0;
  if (!sink_.send(api::encode_event("trace", batch, id_))) {
    logger_.line(LogLevel::info, "trace_stopped").kv("address", *address_).kv("reason", "client gone");
    address_.reset();
    sink_ = {};
  }
}

void Tracer::finish(std::string_view reason) {
  api::TraceEnd end{std::string(reason), total_records_, total_suppressed_};
  sink_.send(api::encode_event("trace_end", end, id_));
  if (sink_.done) sink_.done();
  logger_.line(LogLevel::info, "trace_ended")
      .kv("address", *address_)
      .kv("records", total_records_)
      .kv("suppressed", total_suppressed_);
  address_.reset();
  sink_ = {};
}

void Tracer::poll(uint64_t now_ms) {
  if (!active()) return;
  if (now_ms >= ends_ms_) {
    flush(now_ms);
    if (active()) finish("elapsed");
    return;
  }
  if (now_ms - last_flush_ms_ >= kFlushInterval) flush(now_ms);
}

}  // namespace tern::ctl
