#pragma once
// `ternctl trace ADDR`: a live record of what was decided for packets from or to one address,
// streamed to the client that asked until its time is up. One trace runs at a time.
//
// The data plane records: start() sets its trace address (dp::Tracing), the workers and the
// control lcore write what they decide, and poll() reads it. The control plane's own decisions
// (what it answered to punted requests) go in through observe(). What reaches the client is
// rate-limited once more (a token bucket of `rate` records a second; the rest are counted as
// suppressed, as are those the data plane did not record). The stream is a TraceReply line, then
// "trace" event lines (a batch at most every kFlushInterval), then one "trace_end" line.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/api/result.hpp"
#include "control/api/types.hpp"
#include "control/base/log.hpp"
#include "crypto/engine.hpp"
#include "dataplane/contract/table_writer.hpp"
#include "dataplane/contract/trace.hpp"

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

  static constexpr uint32_t kDefaultRate = 200;    // records per second to the client
  static constexpr uint64_t kFlushInterval = 100;  // ms between batches

  Tracer(dp::Tracing& tracing, const Logger& logger, crypto::Engine& engine, uint32_t rate = kDefaultRate);
  ~Tracer();

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
  void observe(const dp::FiveTuple& five_tuple, std::span<const uint8_t> request, std::span<const uint8_t> answer);
  // Reads the data plane's records, sends a batch when one is due, ends the trace when its time
  // is up.
  void poll(uint64_t now_ms);

 private:
  void collect(uint64_t now_ms);
  void flush(uint64_t now_ms);
  void end(std::string_view reason, bool tell_client);

  dp::Tracing& tracing_;
  const Logger& logger_;
  crypto::Engine& engine_;
  uint32_t rate_;
  std::optional<IpAddress> address_;
  uint64_t client_ = 0;
  std::optional<uint64_t> id_;
  Sink sink_;
  uint64_t ends_ms_ = 0;
  uint64_t last_flush_ms_ = 0;
  double tokens_ = 0;
  uint64_t last_refill_ms_ = 0;
  uint64_t dataplane_suppressed_ = 0;  // the data plane's count when the trace started
  std::vector<api::TraceRecord> pending_;
  uint64_t suppressed_ = 0;  // over our rate, since the last batch
  uint64_t total_records_ = 0;
  uint64_t total_suppressed_ = 0;
  std::array<dp::TraceRecord, 256> scratch_{};
};

}  // namespace tern::ctl
