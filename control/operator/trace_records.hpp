#pragma once
// Trace records on the control lcore's side. The control plane's decisions go into the data
// plane's trace (dp::Tracing::append_trace) as records of their own: for a STUN message a worker
// punted, what the control plane answered (success, an error code, or nothing). A message
// concerns the traced address when it came from it or names it as a peer (XOR-PEER-ADDRESS), so a
// 403 to a CreatePermission for a denied peer shows in a trace of the peer. And every record, the
// workers' and the control plane's, is described for ternctl (api::TraceRecord).

#include <optional>
#include <span>

#include "conf/net.hpp"
#include "control/api/types.hpp"
#include "crypto/engine.hpp"
#include "dataplane/contract/table_writer.hpp"
#include "dataplane/contract/trace.hpp"

namespace tern::ctl {

// TraceRecord::reason of a control record whose request got no answer at all (STUN error codes
// are 300-699, 0 is a success).
inline constexpr uint16_t kTraceNoAnswer = 0xFFFF;

// The control plane's decision on a punted message, or nullopt when it does not concern `traced`.
// `answer` is empty when none was sent.
std::optional<dp::TraceRecord> control_decision(const IpAddress& traced, const dp::FiveTuple& five_tuple,
                                                std::span<const uint8_t> request, std::span<const uint8_t> answer,
                                                crypto::Engine& engine);

// A record as ternctl shows it.
api::TraceRecord describe(const dp::TraceRecord& record);

}  // namespace tern::ctl
