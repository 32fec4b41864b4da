#pragma once
// `ternctl trace ADDR`: a live record of what was decided for packets from or to one address,
// streamed to the client that asked until its time is up. One trace runs at a time. Records are
// rate-limited (a token bucket of `rate` per second); those over it are counted, not sent. The
// stream is a TraceReply line, then "trace" event lines (a batch of records at most every
// kFlushInterval), then one "trace_end" line.
//
// The control plane's own decisions (what it answered to punted requests) come in through
// observe(); the workers' decisions are read from the data plane's trace.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/api/result.hpp"
#include "control/api/types.hpp"
#include "control/clock.hpp"
#include "control/log.hpp"
#include "crypto/engine.hpp"
#include "dataplane/table_writer.hpp"

namespace tern::ctl {

struct Caller;

class Tracer {
 public:
  // Where a trace's lines go. send() returns false when the client is gone (the trace then ends);
  // done() tells the client's connection the stream is over.
  struct Sink {
    std::function<bool(std::string_view line)> send;
    std::function<void()> done;
  };

  static constexpr uint32_t kDefaultRate = 200;   // records per second
  static constexpr uint64_t kFlushInterval = 100;  // ms between batches

  Tracer(const Logger& logger, crypto::Engine& engine, uint32_t rate = kDefaultRate);

  // Starts a trace for `client`; busy while another one runs. `now_ms`: milliseconds on a
  // monotonic clock, the same one poll() is given.
  api::Result<api::TraceReply> start(const api::TraceRequest& request, const Caller& caller, uint64_t now_ms,
                                     uint64_t client, std::optional<uint64_t> id, Sink sink);
  // The client went away: ends its trace without a trace_end line.
  void stop(uint64_t client);

  bool active() const { return address_.has_value(); }
  bool follows(uint64_t client) const { return active() && client_ == client; }
  const std::optional<IpAddress>& address() const { return address_; }

  // A punted request and what the control plane answered (empty: nothing).
  void observe(const dp::FiveTuple& five_tuple, std::span<const uint8_t> request, std::span<const uint8_t> answer,
               uint64_t now_ms);
  // Sends the records gathered since the last batch; ends the trace when its time is up.
  void poll(uint64_t now_ms);

 private:
  void add(api::TraceRecord record, uint64_t now_ms);
  void flush(uint64_t now_ms);
  void finish(std::string_view reason);

  const Logger& logger_;
  crypto::Engine& engine_;
  uint32_t rate_;
  std::optional<IpAddress> address_;
  uint64_t client_ = 0;
  std::optional<uint64_t> id_;
  Sink sink_;
  uint64_t started_ms_ = 0;
  uint64_t ends_ms_ = 0;
  uint64_t last_flush_ms_ = 0;
  double tokens_ = 0;
  uint64_t last_refill_ms_ = 0;
  std::vector<api::TraceRecord> pending_;
  uint64_t suppressed_ = 0;       // since the last batch
  uint64_t total_records_ = 0;
  uint64_t total_suppressed_ = 0;
};

}  // namespace tern::ctl
