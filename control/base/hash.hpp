#pragma once
// Hashes for the control plane's maps, keyed with a per-process random seed: their keys (client
// addresses, ports, transaction IDs) are chosen by whoever sends packets, and an unkeyed hash
// would let a sender pile every entry into one bucket.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "conf/net.hpp"
#include "control/stun/message.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

// The process's seed, drawn from the system's CSPRNG on first use.
uint64_t hash_seed();

// A keyed 64-bit hash of a byte string (multiply-xorshift rounds over 8-byte words).
uint64_t keyed_hash(std::span<const uint8_t> bytes, uint64_t seed);

struct FiveTupleHash {
  size_t operator()(const dp::FiveTuple& ft) const;
};

struct IpAddressHash {
  size_t operator()(const IpAddress& ip) const;
};

// For unordered containers of std::string looked up by std::string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const {
    return keyed_hash({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, hash_seed());
  }
};

}  // namespace tern::ctl
