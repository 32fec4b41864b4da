#pragma once
// The data plane's counters. One X-macro list defines the per-worker counter block, the counter
// identifiers the code counts with, and the names and help texts the control socket and the
// metrics endpoint show; a counter added here appears everywhere. Every reason a worker frees a
// packet without sending it has its own drop_* counter.
//
// Per-allocation traffic (AllocationTraffic) is kept per worker as well: an array indexed by
// AllocId per worker, each written only by its worker, summed by the reader.
//
// No DPDK type appears here: the control plane includes this header without an EAL.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/contract/counter_list.hpp"

namespace tern::dp {

// Where a counter stands in the packet accounting (its column in the list below). Every frame a
// worker takes in ends exactly once, and what it relays or answers then leaves exactly once, so
// at any quiet moment (and in the final counters) the sums by role close:
//
//   received           = relayed + answered + handed_over + dropped
//   relayed + answered = sent + held + lost + peer data taken off the stream rings
//
// (the last term is the exception port's stream_delivered: zero without TCP and TLS clients).
// A counter's role follows from where the worker counts it, not from its name; a drop_* counter is
// `dropped` or `lost`, never anything else.
enum class CounterRole : uint8_t {
  received,     // frames taken in: from a NIC RX queue, or messages of TCP and TLS clients off a stream ring
  relayed,      // a frame's end: relayed to a peer or to a client (then it leaves: sent, held or lost)
  answered,     // a frame's end: answered by the worker itself (the answer leaves: sent or lost)
  handed_over,  // a frame's end: on another thread's ring (the control plane's punt ring, the kernel's exception ring)
  dropped,      // a frame's end: freed for this reason
  sent,         // relayed and answered frames a NIC TX queue took
  held,         // relayed frames handed to the control lcore to wait for their next hop's MAC
  lost,         // relayed and answered frames lost on their way out: a TX queue, the hold or a stream ring full
  share,        // counted again, beside a `relayed` count: hairpin (delivered without touching the wire)
  measure,      // not frames: bytes, cycles, trace records
};

// X(name, help, role)
#define TERN_WORKER_COUNTERS(X)                                                                      \
  X(rx_packets, "frames received", received)                                                        \
  X(rx_bytes, "bytes of the frames received", measure)                                              \
  X(tx_packets, "frames handed to a NIC TX queue", sent)                                            \
  X(tx_bytes, "bytes of the frames handed to a NIC TX queue", measure)                              \
  X(busy_cycles, "TSC cycles of loop iterations that received packets", measure)                    \
  X(total_cycles, "TSC cycles of all loop iterations (busy_cycles / total_cycles: how busy)", measure) \
  X(channel_data_to_peer, "ChannelData from clients relayed to peers (RFC 8656 section 12.6)", relayed) \
  X(send_to_peer, "Send indications from clients relayed to peers (RFC 8656 section 11.2)", relayed) \
  X(channel_data_to_client, "peer data relayed to clients as ChannelData (RFC 8656 section 12.7)", relayed) \
  X(data_indication_to_client, "peer data relayed to clients as Data indications (section 11.3)", relayed) \
  X(hairpin, "client data delivered to another allocation on this server, never on the wire", share) \
  X(binding_answered, "STUN Binding requests answered by the worker (RFC 8489)", answered)          \
  X(arp_answered, "ARP requests for our addresses answered by the worker", answered)                \
  X(ndp_answered, "IPv6 neighbour solicitations for our addresses answered by the worker", answered) \
  X(icmp_answered, "ICMP echo requests to our addresses answered", answered)                        \
  X(punted, "packets handed to the control plane", handed_over)                                     \
  X(neighbour_wait, "relayed packets handed to the control lcore to wait for their next hop's MAC", held) \
  X(trace_records, "trace records written (ternctl trace)", measure)                                \
  X(trace_suppressed, "trace records not written: over the trace rate, or the trace ring full", measure) \
  X(drop_malformed, "frames whose Ethernet, IP or UDP lengths do not add up", dropped)              \
  X(drop_segmented, "chained (multi-segment) mbufs", dropped)                                       \
  X(drop_ethertype, "frames neither IPv4, IPv6 nor ARP (VLAN-tagged, ...)", dropped)                \
  X(drop_not_ours, "frames not addressed to our MAC or IP addresses", dropped)                      \
  X(drop_fragment, "IP fragments (not reassembled): IPv4 fragments, IPv6 fragment headers", dropped) \
  X(drop_bad_checksum, "IPv4 header or UDP/ICMPv6 checksum wrong (or a zero UDP checksum over IPv6)", dropped) \
  X(drop_protocol, "IP protocols (IPv6: next headers) other than UDP and ICMP to our addresses", dropped) \
  X(drop_icmp, "ICMP and ICMPv6 messages other than echo requests and neighbour discovery", dropped) \
  X(drop_closed_port, "UDP to our address on a port that is neither a listener nor relayed", dropped) \
  X(drop_not_stun, "UDP on a listener that is neither ChannelData nor STUN", dropped)               \
  X(drop_stun_malformed, "STUN messages with bad lengths or attributes, or lacking what they need", dropped) \
  X(drop_bad_fingerprint, "STUN messages whose FINGERPRINT does not match", dropped)                \
  X(drop_unknown_attribute, "Send indications with an unknown comprehension-required attribute", dropped) \
  X(drop_unsupported_family, "Send indications to a peer of the other family than the relayed address", dropped) \
  X(drop_no_allocation, "ChannelData or Send indications from a 5-tuple without an allocation", dropped) \
  X(drop_no_relay, "peer data to a relayed port without an allocation", dropped)                    \
  X(drop_expired, "traffic for an allocation whose lifetime has ended", dropped)                    \
  X(drop_bad_channel, "ChannelData on an unbound channel outside 0x4000-0x4FFF (RFC 8656 §12)", dropped) \
  X(drop_unbound_channel, "ChannelData on a channel that is not bound, or whose binding expired", dropped) \
  X(drop_no_permission, "data from or to a peer IP without a permission (RFC 8656 section 9)", dropped) \
  X(drop_denied_own_port, "client data aimed at our own addresses but not a live relayed address", dropped) \
  X(drop_ttl_expired, "relayed packets that arrived with TTL 0 or 1 (RFC 8656 section 14)", dropped) \
  X(drop_rate_limited, "relayed packets over the allocation's max_bps", dropped)                    \
  X(drop_packet_rate_limited, "relayed packets over the allocation's allocation_pps", dropped)      \
  X(drop_too_big, "packets without buffer room for the headers or padding to add", dropped)         \
  X(drop_no_route, "destinations neither on-link nor reachable through a gateway", dropped)         \
  X(drop_hold_ring_full, "packets awaiting a next hop's MAC lost because the hold ring was full", lost) \
  X(drop_arp_ignored, "ARP or neighbour discovery neither for our addresses nor a known neighbour", dropped) \
  X(drop_punt_ring_full, "packets for the control plane dropped because its queue was full", dropped) \
  X(drop_tx_full, "packets a NIC TX queue did not take", lost)                                      \
  X(to_kernel, "TCP segments for a TCP or TLS listener (and ICMP errors about them) handed to the kernel", handed_over) \
  X(drop_exception_ring_full, "packets for the kernel's TCP lost because the exception ring was full", dropped) \
  X(drop_stream_ring_full, "peer data for a TCP or TLS client lost because the stream ring was full", lost) \
  X(drop_stream_stale, "a TCP or TLS client's data for an allocation that is no longer its connection's", dropped)

TERN_COUNTER_LIST(TERN_WORKER_COUNTERS, CounterId, kCounterCount, kCounterNames, kCounterHelp);
#define TERN_WORKER_COUNTER_ROLE_(name, help, role) CounterRole::role,
inline constexpr std::array<CounterRole, kCounterCount> kCounterRoles = {TERN_WORKER_COUNTERS(TERN_WORKER_COUNTER_ROLE_)};
#undef TERN_WORKER_COUNTER_ROLE_

constexpr std::string_view counter_name(CounterId id) { return kCounterNames[static_cast<size_t>(id)]; }
// A drop_* counter: a reason a worker freed a packet without sending it.
constexpr bool is_drop(CounterId id) { return counter_name(id).starts_with("drop_"); }
constexpr std::string_view counter_help(CounterId id) { return kCounterHelp[static_cast<size_t>(id)]; }
constexpr CounterRole counter_role(CounterId id) { return kCounterRoles[static_cast<size_t>(id)]; }

// The metrics' drop reasons are the drop_* names (is_drop); the accounting's are the roles.
constexpr bool drop_roles_match_names() {
  for (size_t i = 0; i < kCounterCount; ++i) {
    const bool named = kCounterNames[i].starts_with("drop_");
    const bool role = kCounterRoles[i] == CounterRole::dropped || kCounterRoles[i] == CounterRole::lost;
    if (named != role) return false;
  }
  return true;
}
static_assert(drop_roles_match_names(), "a drop_* worker counter's role is dropped or lost, and no other's is");

// A counter with one writer (its worker) and any number of readers: relaxed load + store, which
// is a plain add on x86 but never a torn or racy read.
class Counter {
 public:
  void add(uint64_t n) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// One worker's counters: its own cache lines, written by it alone.
struct alignas(64) WorkerCounters {
  std::array<Counter, kCounterCount> values;  // dp: rw (own worker), ctl: ro

  Counter& operator[](CounterId id) { return values[static_cast<size_t>(id)]; }
  const Counter& operator[](CounterId id) const { return values[static_cast<size_t>(id)]; }
};

// A snapshot (or a sum over workers) as plain numbers, indexed by CounterId.
using CounterValues = std::array<uint64_t, kCounterCount>;

inline void accumulate(CounterValues& sum, const WorkerCounters& c) {
  for (size_t i = 0; i < kCounterCount; ++i) sum[i] += c.values[i].value();
}

// The sum of every counter of one role (CounterRole's identities are between these sums).
constexpr uint64_t sum_of(const CounterValues& values, CounterRole role) {
  uint64_t sum = 0;
  for (size_t i = 0; i < kCounterCount; ++i)
    if (kCounterRoles[i] == role) sum += values[i];
  return sum;
}

// ---- per allocation ----------------------------------------------------------------------------
//
// The reasons an allocation's own drops are kept by (ternctl allocation ID): the ones that answer
// "my client's traffic reaches tern but not the peer" at a glance. Every other drop once the
// allocation is known (TTL, no route, too big, a bad channel number, a peer of the other family,
// one of our own ports) counts as `other`; the worker counters and `ternctl trace` name it exactly.
enum class AllocationDrop : uint8_t {
  no_permission,    // no permission for the peer's IP (RFC 8656 section 9)
  unbound_channel,  // a channel not bound, or whose binding expired
  rate_limited,     // over the allocation's max_bps or allocation_pps (the worker counters tell which)
  expired,          // after the allocation's lifetime ended
  other,            // TTL, no route, too big, a bad channel number, another family, our own ports
};
inline constexpr size_t kAllocationDropCount = static_cast<size_t>(AllocationDrop::other) + 1;

constexpr AllocationDrop allocation_drop(CounterId reason) {
  switch (reason) {
    case CounterId::drop_no_permission: return AllocationDrop::no_permission;
    case CounterId::drop_unbound_channel: return AllocationDrop::unbound_channel;
    case CounterId::drop_rate_limited: return AllocationDrop::rate_limited;
    case CounterId::drop_packet_rate_limited: return AllocationDrop::rate_limited;
    case CounterId::drop_expired: return AllocationDrop::expired;
    default: return AllocationDrop::other;
  }
}

using AllocationDropCounts = std::array<uint32_t, kAllocationDropCount>;

// 64 bytes per allocation per worker, one cache line: with W workers an allocation table of N
// slots costs 64 * N * W bytes (1M slots, 1 worker: 64 MiB). Byte counts are 64-bit; packet and
// drop counts are 32-bit and wrap (modulo 2^32): a reader that samples at least once per 2^32
// packets of an allocation sees every increment as a difference. A slot's counters carry on from
// the slot's previous allocation: the control plane takes a sample when it publishes an
// allocation and reports differences from it.
// dp: rw (the shard's own worker only), ctl: ro
struct alignas(64) AllocationTraffic {
  std::atomic<uint64_t> bytes_to_peer{0};    // application data bytes, client -> peer
  std::atomic<uint64_t> bytes_to_client{0};  // application data bytes, peer -> client
  std::atomic<uint32_t> packets_to_peer{0};
  std::atomic<uint32_t> packets_to_client{0};
  // Client data and peer data dropped once their allocation was known, by AllocationDrop.
  std::array<std::atomic<uint32_t>, kAllocationDropCount> drops_to_peer{};
  std::array<std::atomic<uint32_t>, kAllocationDropCount> drops_to_client{};
};
static_assert(sizeof(AllocationTraffic) == 64);

// The plain-number form a reader returns (the sum over workers).
struct AllocationTrafficValues {
  uint64_t bytes_to_peer = 0;
  uint64_t bytes_to_client = 0;
  uint32_t packets_to_peer = 0;
  uint32_t packets_to_client = 0;
  AllocationDropCounts drops_to_peer = {};
  AllocationDropCounts drops_to_client = {};
};

inline uint32_t& count_of(AllocationDropCounts& drops, AllocationDrop why) {
  return drops[static_cast<size_t>(why)];
}
inline uint32_t count_of(const AllocationDropCounts& drops, AllocationDrop why) {
  return drops[static_cast<size_t>(why)];
}

inline uint64_t total(const AllocationDropCounts& drops) {
  uint64_t sum = 0;
  for (uint32_t n : drops) sum += n;
  return sum;
}

inline void accumulate(AllocationTrafficValues& sum, const AllocationTraffic& t) {
  sum.bytes_to_peer += t.bytes_to_peer.load(std::memory_order_relaxed);
  sum.bytes_to_client += t.bytes_to_client.load(std::memory_order_relaxed);
  sum.packets_to_peer += t.packets_to_peer.load(std::memory_order_relaxed);
  sum.packets_to_client += t.packets_to_client.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kAllocationDropCount; ++i) {
    sum.drops_to_peer[i] += t.drops_to_peer[i].load(std::memory_order_relaxed);
    sum.drops_to_client[i] += t.drops_to_client[i].load(std::memory_order_relaxed);
  }
}

// Single-writer increments (the worker that owns the shard).
template <typename T>
inline void bump(std::atomic<T>& c, T n) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace tern::dp
