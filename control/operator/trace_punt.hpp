#pragma once
// The control plane's decisions, as trace records: for a STUN message a worker punted, what the
// control plane answered (a success, an error and its code, or nothing). A message concerns the
// traced address when it came from it, or when it names it as a peer (XOR-PEER-ADDRESS of a
// CreatePermission, ChannelBind or Send), so a 403 for a denied peer shows in a trace of the peer.

#include <optional>
#include <span>
#include <string>

#include "conf/net.hpp"
#include "control/api/types.hpp"
#include "crypto/engine.hpp"
#include "dataplane/table_writer.hpp"

namespace tern::ctl {

// nullopt when the message does not concern `traced`. `answer` is empty when none was sent; `time`
// goes into the record as it is.
std::optional<api::TraceRecord> punt_record(const IpAddress& traced, const dp::FiveTuple& five_tuple,
                                            std::span<const uint8_t> request, std::span<const uint8_t> answer,
                                            double time, crypto::Engine& engine);

}  // namespace tern::ctl
