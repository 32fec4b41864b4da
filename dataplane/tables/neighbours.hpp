#pragma once
// The neighbour table: per port, IP address -> MAC address of the hosts on its subnets (the
// gateway among them). One writer, the control lcore; the workers only read. A worker that meets
// an unknown next hop hands the packet to the control lcore, which resolves it (control_lcore/control_port.hpp);
// ARP and neighbour discovery that teach something reach the control lcore as punted packets.
// Nothing a worker does writes here.
//
// Layout: an open-addressed array per port of 16-byte entries {ip, mac word}, linear probing
// over at most kNeighbourProbe entries. The writer publishes an entry by storing its MAC word
// before its address (release); it changes a MAC with one 64-bit store. A forgotten entry keeps
// its address (with an invalid MAC word) until every worker has passed a quiescent state, and
// only then becomes a tombstone that a new address may take: a reader never pairs an address with
// another address's MAC.
//
// IPv6 neighbours (RFC 4861) have a table of their own per port: 32-byte entries whose 16-byte
// address cannot be published in one store, so each carries a state word with a generation that
// every change bumps. A reader reads the state, the address and the MAC, then the state again;
// any change in between (the entry forgotten, reused) makes it a miss, never a wrong MAC. Those
// entries need no grace period.

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/wire/ip6.hpp"
#include "dataplane/wire/headers.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::dp {

inline constexpr unsigned kNeighbourProbe = 8;

class Neighbours {
 public:
  // entries_per_port is rounded up to a power of two (at least 64).
  static std::unique_ptr<Neighbours> create(unsigned ports, unsigned entries_per_port, int socket,
                                            rte_rcu_qsbr* rcu, std::string& error);
  ~Neighbours();
  Neighbours(const Neighbours&) = delete;
  Neighbours& operator=(const Neighbours&) = delete;

  // ---- worker side: read only ----
  bool find(unsigned port, uint32_t ip, MacWord& mac) const {
    const Entry* table = table_of(port);
    unsigned i = slot_of(ip);
    for (unsigned n = 0; n < kNeighbourProbe; ++n, i = (i + 1) & mask_) {
      const uint32_t key = table[i].ip.load(std::memory_order_acquire);
      if (key == ip) {
        const uint64_t w = table[i].mac.load(std::memory_order_acquire);
        mac = w & kMacMask;
        return (w & kValid) != 0;
      }
      if (key == kEmpty) return false;
    }
    return false;
  }

  bool find(unsigned port, const Ip6& ip, MacWord& mac) const {
    const Entry6* table = table6_of(port);
    unsigned i = slot_of(ip);
    for (unsigned n = 0; n < kNeighbourProbe; ++n, i = (i + 1) & mask_) {
      const Entry6& e = table[i];
      const uint32_t state = e.state.load(std::memory_order_acquire);
      if (state == kEmpty) return false;
      if ((state & kUsed) == 0) continue;  // a tombstone
      const bool same = e.ip[0].load(std::memory_order_relaxed) == ip.w[0] &&
                        e.ip[1].load(std::memory_order_relaxed) == ip.w[1];
      const uint64_t w = e.mac.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (e.state.load(std::memory_order_relaxed) != state) return false;  // changed meanwhile
      if (!same) continue;
      mac = w & kMacMask;
      return (w & kValid) != 0;
    }
    return false;
  }

  // ---- control side: the only writer ----
  enum class Learned : uint8_t { added, changed, confirmed, full, invalid };
  // Adds or updates ip -> mac (RFC 826's merge), and marks it confirmed at `now`.
  Learned learn(unsigned port, uint32_t ip, MacWord mac, TableTime now);
  // Marks ip unknown at once; its entry is reusable after the grace period.
  bool forget(unsigned port, uint32_t ip);
  // Turns forgotten entries whose grace period has passed into tombstones.
  void reclaim();

  struct Known {
    unsigned port;
    uint32_t ip;
    MacWord mac;
    TableTime confirmed;
  };
  // Every valid entry, for upkeep (control side).
  std::vector<Known> known() const;

  Learned learn(unsigned port, const Ip6& ip, MacWord mac, TableTime now);
  bool forget(unsigned port, const Ip6& ip);
  struct Known6 {
    unsigned port;
    Ip6 ip;
    MacWord mac;
    TableTime confirmed;
  };
  std::vector<Known6> known6() const;
  unsigned ports() const { return ports_; }

 private:
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kTombstone = 0xffffffff;  // 255.255.255.255 is never a neighbour
  static constexpr uint64_t kValid = 1ULL << 63;
  static constexpr uint64_t kMacMask = (1ULL << 48) - 1;

  struct alignas(16) Entry {
    std::atomic<uint32_t> ip{kEmpty};  // dp: ro, ctl: rw
    uint32_t unused = 0;
    std::atomic<uint64_t> mac{0};      // dp: ro, ctl: rw. MacWord | kValid
  };
  // state: kEmpty, or a generation << 1 with kUsed set while the entry holds an address.
  static constexpr uint32_t kUsed = 1;
  struct alignas(32) Entry6 {
    std::atomic<uint32_t> state{kEmpty};   // dp: ro, ctl: rw
    uint32_t unused = 0;
    std::atomic<uint64_t> mac{0};          // dp: ro, ctl: rw. MacWord | kValid
    std::atomic<uint64_t> ip[2] = {};      // dp: ro, ctl: rw
  };
  enum class State : uint8_t { free, live, forgotten };
  struct Shadow {  // control side only
    State state = State::free;
    TableTime confirmed = 0;
    uint64_t token = 0;  // RCU token taken when forgotten
  };

  Neighbours() = default;
  const Entry* table_of(unsigned port) const { return entries_ + size_t{port} * (mask_ + 1); }
  Entry* table_of(unsigned port) { return entries_ + size_t{port} * (mask_ + 1); }
  unsigned slot_of(uint32_t ip) const {
    return static_cast<unsigned>((uint64_t{ip} * 0x9E3779B97F4A7C15ULL) >> 40) & mask_;
  }
  unsigned slot_of(const Ip6& ip) const { return static_cast<unsigned>(ip.hash() >> 40) & mask_; }
  const Entry6* table6_of(unsigned port) const { return entries6_ + size_t{port} * (mask_ + 1); }
  Entry6* table6_of(unsigned port) { return entries6_ + size_t{port} * (mask_ + 1); }

  Entry* entries_ = nullptr;  // ports_ * (mask_ + 1), rte_zmalloc'd
  unsigned ports_ = 0;
  unsigned mask_ = 0;
  rte_rcu_qsbr* rcu_ = nullptr;
  std::vector<Shadow> shadow_;         // parallel to entries_
  std::vector<size_t> forgotten_;      // indexes into entries_ awaiting the grace period
  Entry6* entries6_ = nullptr;         // ports_ * (mask_ + 1), rte_zmalloc'd
  std::vector<TableTime> confirmed6_;  // parallel to entries6_ (control side)
};

}  // namespace tern::dp
