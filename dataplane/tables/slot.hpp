#pragma once
// One allocation as the workers see it: two cache lines in a preallocated array indexed by AllocId.
// Line 0 holds everything the common packet reads (the 5-tuple, the relayed address, the expiry
// and the first permissions); line 1 the inline channel bindings. Sets that outgrow the inline
// entries overflow into hashes (tables.hpp).
//
// Ownership: the control lcore writes (through RcuTableWriter, the only writer), workers read.
// Every field a worker reads while the slot is live is either written before the slot is
// published (expires_ stored last, with release) or is one atomic word, so a reader never sees
// half an update. Addresses and ports are kept in network byte order, as on the wire.

#include <atomic>
#include <cstdint>

#include "dataplane/wire/ip6.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::dp {

inline constexpr unsigned kInlinePermissions = 5;
inline constexpr unsigned kInlineChannels = 4;

// A permission for one peer IPv4 address (RFC 8656 §9): address and expiry in one 64-bit word.
// A zero word is a free entry.
struct PermissionWord {
  static constexpr uint64_t make(uint32_t peer_ip_be, TableTime expires) {
    return (uint64_t{peer_ip_be} << 32) | expires;
  }
  static constexpr uint32_t peer_ip(uint64_t word) { return static_cast<uint32_t>(word >> 32); }
  static constexpr TableTime expires(uint64_t word) { return static_cast<TableTime>(word); }
};

// A channel binding (RFC 8656 §12): channel number, peer port and peer IPv4 address in one
// 64-bit word, its expiry beside it. A zero binding is a free entry.
struct ChannelEntry {
  std::atomic<uint64_t> binding{0};   // dp: ro, ctl: rw
  std::atomic<TableTime> expires{0};  // dp: ro, ctl: rw

  static constexpr uint64_t make(uint16_t channel, uint16_t peer_port_be, uint32_t peer_ip_be) {
    return (uint64_t{channel} << 48) | (uint64_t{peer_port_be} << 32) | peer_ip_be;
  }
  static constexpr uint16_t channel(uint64_t b) { return static_cast<uint16_t>(b >> 48); }
  static constexpr uint16_t peer_port(uint64_t b) { return static_cast<uint16_t>(b >> 32); }
  static constexpr uint32_t peer_ip(uint64_t b) { return static_cast<uint32_t>(b); }
};

enum AllocationFlags : uint8_t {
  kDontFragment = 1u << 0,        // RFC 8656 §7.2: DF on packets sent to peers
  kPermissionOverflow = 1u << 1,  // more permissions in the overflow hash
  kChannelOverflow = 1u << 2,     // more channels in the overflow hashes
  // 1u << 3: free (max_bps and allocation_pps apply to every allocation: WorkerSettings)
  kClientIpv6 = 1u << 4,          // the 5-tuple is IPv6: its addresses are in AllocationSlot6
  kRelayIpv6 = 1u << 5,           // the relayed address (and so every peer) is IPv6: AllocationSlot6,
                                  // permissions and channels in the IPv6 hashes
  kStreamClient = 1u << 6,        // a TCP or TLS client: not in the client index; its peers' data goes
                                  // to the stream transport, for the connection stream() names
};

struct alignas(64) AllocationSlot {
  // ---- line 0: every packet ----
  std::atomic<TableTime> expires{0};  // dp: ro, ctl: rw. 0 = slot not published
  // dp: ro, ctl: rw (before publish). 5-tuple, client side; a stream client's (kStreamClient)
  // connection instead: the workers never address a stream client's packets themselves.
  uint32_t client_ip = 0;
  uint32_t server_ip = 0;             //   the listener address the client talks to
  uint16_t client_port = 0;
  uint16_t server_port = 0;
  uint32_t relay_ip = 0;              // dp: ro, ctl: rw (before publish). relayed address
  uint16_t relay_port = 0;
  std::atomic<uint8_t> flags{0};      // dp: ro, ctl: rw. AllocationFlags
  uint8_t relay_index = 0;            // dp: ro, ctl: rw (before publish). index in relay addresses
  std::atomic<uint64_t> permissions[kInlinePermissions] = {};  // dp: ro, ctl: rw. PermissionWord

  // ---- line 1: channels ----
  ChannelEntry channels[kInlineChannels];

  StreamId stream() const { return StreamId{client_ip}; }
};

static_assert(sizeof(AllocationSlot) == 128, "an allocation is two cache lines");

// The IPv6 side of an allocation, when it has one (kClientIpv6, kRelayIpv6): a line beside the
// slot, in an array with the same index. The AllocationSlot's IPv4 fields of that side are then zero;
// its ports stay where they are. Written before the slot is published, read only while it is.
struct alignas(64) AllocationSlot6 {
  Ip6 client_ip{};  // dp: ro, ctl: rw (before publish). kClientIpv6
  Ip6 server_ip{};  //   the listener address the client talks to. kClientIpv6
  Ip6 relay_ip{};   //   the relayed address. kRelayIpv6
};
static_assert(sizeof(AllocationSlot6) == 64);

// A channel binding to an IPv6 peer: entries of a pool, found through two hashes (tables.hpp).
// Everything but the expiry is written before the entry is published and reused only after a
// grace period.
struct ChannelEntry6 {
  Ip6 peer_ip{};                      // dp: ro, ctl: rw (before publish)
  uint16_t peer_port = 0;             // network order
  uint16_t channel = 0;
  std::atomic<TableTime> expires{0};  // dp: ro, ctl: rw
};

}  // namespace tern::dp
