#pragma once
// The write side of the data plane's tables, as the control plane sees it.
//
// The control plane is the only writer (docs/ARCHITECTURE.md "The tables"); workers read lock-free. Every change
// to what the workers see goes through this interface, so the control plane's unit tests can
// fake it and the real implementation (dataplane/tables) can keep its RCU discipline in one
// place. No DPDK type appears here: control/ includes this header without an EAL.
//
// Time on the tables is `TableTime`: whole seconds on a monotonic clock shared by every core
// (ternd derives it from the TSC). An entry is valid while now < expires.

#include <cstddef>
#include <cstdint>
#include <span>

#include "conf/net.hpp"

namespace tern::dp {

// An allocation slot, 0 .. table_size-1: a handle, not a number to compute with. slot_index() is its
// position in the tables' arrays; AllocId{n} names slot n.
enum class AllocId : uint32_t {};
constexpr uint32_t slot_index(AllocId id) { return static_cast<uint32_t>(id); }
inline constexpr AllocId kNoAllocation{UINT32_MAX};  // no slot
using TableTime = uint32_t;

// RFC 8656 §2: the 5-tuple's transport protocol (IP protocol numbers); over TLS it is TCP.
enum class Transport : uint8_t { tcp = 6, udp = 17 };

// A client's TCP or TLS connection, numbered by the stream transport from 1 (0: none, a UDP
// client). A slot of a stream client carries it, and every packet between a worker and the
// transport names it, so that a slot reused for another connection never gets the old one's data.
enum class StreamId : uint32_t { none = 0 };

// RFC 8656 §2: the 5-tuple of the client's side: client address, the server (listener)
// address the client sent to, and the transport protocol.
struct FiveTuple {
  TransportAddress client;
  TransportAddress server;
  Transport transport = Transport::udp;

  constexpr auto operator<=>(const FiveTuple&) const = default;
};

// What the workers need to relay for one allocation.
struct AllocationEntry {
  FiveTuple five_tuple;
  // A stream client's connection: its peers' data is handed to the stream transport for it, and
  // only its own connection's data is relayed; the slot is not in the client index (the workers
  // never see a stream client's packets, the kernel's TCP does). none: a UDP client.
  StreamId stream = StreamId::none;
  TransportAddress relayed;   // the relayed transport address as bound on our port (not advertised)
  TableTime expires = 0;
  bool dont_fragment = false;  // RFC 8656 §7.2 DONT-FRAGMENT: set DF on packets to peers
  // limits.max_bps and limits.allocation_pps are not per entry: they apply to every allocation,
  // live ones too, as the workers' settings say (worker_settings.hpp).
};

enum class WriteResult : uint8_t {
  ok,
  no_room,     // inline set and overflow both full: answer 508 Insufficient Capacity
  not_found,   // no such allocation / permission / channel published
  unsupported, // an address the data plane cannot relay (an IPv6 peer on an IPv4 table)
};

class TableWriter {
 public:
  virtual ~TableWriter() = default;

  // Publishes an allocation in a free slot the control plane chose (it owns the free list).
  virtual WriteResult add_allocation(AllocId id, const AllocationEntry& entry) = 0;
  virtual WriteResult set_allocation_expiry(AllocId id, TableTime expires) = 0;
  // Unpublishes at once (workers stop relaying for it); the slot and its relayed port become
  // reusable only after the RCU grace period, reported by reclaimed().
  virtual WriteResult remove_allocation(AllocId id) = 0;

  // RFC 8656 §9: a permission is per peer IP address (the port is not part of it). Adds or
  // refreshes. A removed or expired permission's space is reused after the grace period.
  virtual WriteResult set_permission(AllocId id, const IpAddress& peer, TableTime expires) = 0;
  virtual WriteResult remove_permission(AllocId id, const IpAddress& peer) = 0;

  // RFC 8656 §12: channel <-> peer transport address, both directions. Adds or refreshes.
  virtual WriteResult set_channel(AllocId id, uint16_t channel, const TransportAddress& peer,
                                  TableTime expires) = 0;
  virtual WriteResult remove_channel(AllocId id, uint16_t channel) = 0;

  // Allocation slots removed earlier whose grace period has passed (no worker can still see
  // them): safe to reuse, together with their relayed ports. Returns how many were written.
  virtual size_t reclaimed(std::span<AllocId> out) = 0;
};

}  // namespace tern::dp
