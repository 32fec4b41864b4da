#pragma once
// A reader of the RCU stress test: what a worker does to the tables, as fast as it can, checking
// every entry it finds against the serial it looked up (rcu_stress_model.hpp). Registered on the
// RCU variable as a worker is: online for its whole run, quiescent between bursts, holding nothing
// across one. Like a worker it allocates nothing and takes no lock while it runs.

#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "tests/unit/dataplane/rcu_stress_model.hpp"

namespace tern::dp::stress {

struct alignas(64) ReaderCounts {
  uint64_t bursts = 0;
  uint64_t lookups = 0;   // client index (bulk and single) and relay index
  uint64_t found = 0;     // of them, a live allocation
  uint64_t ready = 0;     // of those, ready: every stable permission and channel checked
  uint64_t checks = 0;    // invariants checked
  uint64_t reused = 0;    // slots seen holding a new serial: the previous one's peers checked gone
  uint64_t failures = 0;
};

// The first invariant a reader found broken.
struct Failure {
  const char* what = nullptr;
  uint32_t serial = 0;
  uint32_t slot = 0;
  uint64_t seen = 0;  // what the reader found instead, where one value says it
};

class Reader {
 public:
  static constexpr unsigned kGroup = 8;  // keys per bulk lookup, as a worker groups a burst

  Reader(const Tables& tables, rte_rcu_qsbr* rcu, unsigned thread_id,
         const std::atomic<uint32_t>& next_serial, const std::atomic<bool>& running, uint64_t seed)
      : t_(tables),
        rcu_(rcu),
        thread_id_(thread_id),
        next_serial_(next_serial),
        running_(running),
        rng_(seed | 1),
        last_serial_(tables.capacity(), kSerialLimit) {}

  void run() {
    rte_rcu_qsbr_thread_online(rcu_, thread_id_);
    while (running_.load(std::memory_order_relaxed)) {
      burst();
      ++counts_.bursts;
      rte_rcu_qsbr_quiescent(rcu_, thread_id_);  // nothing found above is held past this
    }
    rte_rcu_qsbr_thread_offline(rcu_, thread_id_);
  }

  const ReaderCounts& counts() const { return counts_; }
  const Failure& failure() const { return failure_; }

 private:
  uint64_t random() {  // xorshift64
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }
  // A serial among the recent ones (most allocations alive are), or an older one (a miss, or a
  // long-lived allocation).
  uint32_t pick(uint32_t hi) {
    const uint32_t window = random() % 8 == 0 ? hi : std::min(hi, 4 * t_.capacity());
    return hi - 1 - static_cast<uint32_t>(random() % window);
  }

  void burst() {
    const uint32_t hi = next_serial_.load(std::memory_order_relaxed);
    if (hi == 0) return;
    // The client index in bulk, one group per family, as a worker looks a burst up.
    ClientKey keys4[kGroup];
    ClientKey6 keys6[kGroup];
    const ClientKey* p4[kGroup];
    const ClientKey6* p6[kGroup];
    uint32_t s4[kGroup], s6[kGroup];
    for (unsigned i = 0; i < kGroup; ++i) {
      s4[i] = pick(hi) & ~1u;
      s6[i] = pick(hi) | 1u;
      keys4[i] = client_key4(s4[i]);
      keys6[i] = client_key6(s6[i]);
      p4[i] = &keys4[i];
      p6[i] = &keys6[i];
    }
    AllocId ids4[kGroup], ids6[kGroup];
    t_.find_clients(p4, kGroup, ids4);
    t_.find_clients(p6, kGroup, ids6);
    for (unsigned i = 0; i < kGroup; ++i) {
      found_by_client(s4[i], ids4[i]);
      found_by_client(s6[i], ids6[i]);
    }
    // Single lookups, and the relay index (peer -> client).
    for (unsigned i = 0; i < kGroup; ++i) {
      const uint32_t s = pick(hi);
      found_by_client(s, client_v6(s) ? t_.find_client(client_key6(s)) : t_.find_client(client_key4(s)));
      const uint32_t r = pick(hi);
      found_by_relay(r, t_.find_relay(relay_index(r), rte_cpu_to_be_16(relay_port(r))));
    }
  }

  bool check(bool ok, const char* what, uint32_t s, AllocId id, uint64_t seen = 0) {
    ++counts_.checks;
    if (!ok && counts_.failures++ == 0) failure_ = {what, s, slot_index(id), seen};
    return ok;
  }

  // The client index named a slot for serial s: while live, it holds s and nothing else.
  void found_by_client(uint32_t s, AllocId id) {
    ++counts_.lookups;
    if (id == kNoAllocation) return;
    if (!check(slot_index(id) < t_.capacity(), "client index: slot out of range", s, id)) return;
    const AllocationSlot& a = t_.slot(id);
    const TableTime expires = a.expires.load(std::memory_order_acquire);
    if (expires <= kNow) return;  // removed since it was looked up (0), or expired
    ++counts_.found;
    if (!whole(s, id, a)) return;
    peers(s, id, a, expires);
  }

  // The relay index named a slot for serial r's relayed address: it holds an allocation of that
  // address (r's, or a later serial's with the same port), whole.
  void found_by_relay(uint32_t r, AllocId id) {
    ++counts_.lookups;
    if (id == kNoAllocation) return;
    if (!check(slot_index(id) < t_.capacity(), "relay index: slot out of range", r, id)) return;
    const AllocationSlot& a = t_.slot(id);
    const TableTime expires = a.expires.load(std::memory_order_acquire);
    if (expires <= kNow) return;
    ++counts_.found;
    const uint8_t flags = a.flags.load(std::memory_order_acquire);
    const uint32_t s = flags & kClientIpv6 ? serial_of_client(t_.slot6(id).client_ip)
                                           : serial_of_client(rte_be_to_cpu_32(a.client_ip));
    if (!check(s < kSerialLimit && relay_endpoint(s) == relay_endpoint(r),
               "relay index: slot holds another relayed address's allocation", r, id, s))
      return;
    if (!whole(s, id, a)) return;
    peers(s, id, a, expires);
  }

  // Every field of the slot from serial s, read in a worker's order (the flags, then the rest).
  bool whole(uint32_t s, AllocId id, const AllocationSlot& a) {
    const uint8_t flags = a.flags.load(std::memory_order_acquire);
    const uint8_t family = (client_v6(s) ? kClientIpv6 : 0) | (relay_v6(s) ? kRelayIpv6 : 0);
    bool ok = check((flags & (kClientIpv6 | kRelayIpv6 | kStreamClient)) == family,
                    "slot: families in the flags are not the allocation's", s, id, flags);
    ok &= check(a.client_port == rte_cpu_to_be_16(client_port(s)), "slot: client port", s, id,
                rte_be_to_cpu_16(a.client_port));
    ok &= check(a.server_port == rte_cpu_to_be_16(kServerPort), "slot: server port", s, id,
                rte_be_to_cpu_16(a.server_port));
    ok &= check(a.relay_index == relay_index(s), "slot: relay address index", s, id, a.relay_index);
    ok &= check(a.relay_port == rte_cpu_to_be_16(relay_port(s)), "slot: relayed port", s, id,
                rte_be_to_cpu_16(a.relay_port));
    if (client_v6(s)) {
      const AllocationSlot6& a6 = t_.slot6(id);
      ok &= check(a6.client_ip == client_ip6(s), "slot: IPv6 client address", s, id,
                  serial_of_client(a6.client_ip));
      ok &= check(a6.server_ip == server_ip6(), "slot: IPv6 server address", s, id);
      ok &= check(a.client_ip == 0 && a.server_ip == 0, "slot: IPv4 5-tuple of an IPv6 client", s, id);
    } else {
      ok &= check(a.client_ip == rte_cpu_to_be_32(client_ip4(s)), "slot: client address", s, id,
                  serial_of_client(rte_be_to_cpu_32(a.client_ip)));
      ok &= check(a.server_ip == rte_cpu_to_be_32(kServerIp4), "slot: server address", s, id);
    }
    if (relay_v6(s)) {
      ok &= check(t_.slot6(id).relay_ip == relay_ip6(), "slot: IPv6 relayed address", s, id);
      ok &= check(a.relay_ip == 0, "slot: IPv4 relayed address of an IPv6 one", s, id);
    } else {
      ok &= check(a.relay_ip == rte_cpu_to_be_32(kRelayIp4[relay_index(s)]), "slot: relayed address", s,
                  id, rte_be_to_cpu_32(a.relay_ip));
    }
    return ok;
  }

  // Removed (expiry 0) since the reader found it live: what it holds may then be going.
  static bool removed(const AllocationSlot& a) { return a.expires.load(std::memory_order_acquire) == 0; }

  bool permitted(uint32_t s, AllocId id, const AllocationSlot& a, uint32_t peer_serial, unsigned j) const {
    return relay_v6(s) ? t_.permitted(id, a, peer_ip6(peer_serial, j), kNow)
                       : t_.permitted(id, a, rte_cpu_to_be_32(peer_ip4(peer_serial, j)), kNow);
  }
  // The peer channel `channel` is bound to, as (serial, index, port in host order); false if none.
  bool channel_peer(uint32_t s, AllocId id, const AllocationSlot& a, uint16_t channel, uint32_t& ps,
                    unsigned& pj, uint16_t& port) const {
    uint16_t port_be = 0;
    bool bound = false;
    bool ours = false;
    if (relay_v6(s)) {
      Ip6 ip{};
      bound = t_.channel_peer(id, a, channel, kNow, ip, port_be);
      ours = bound && peer_of(ip, ps, pj);
    } else {
      uint32_t ip = 0;
      bound = t_.channel_peer(id, a, channel, kNow, ip, port_be);
      ours = bound && peer_of(ip, ps, pj);
    }
    port = rte_be_to_cpu_16(port_be);
    if (bound && !ours) ps = kSerialLimit;  // bound to an address that is nobody's peer
    return bound;
  }
  uint16_t channel_of_peer(uint32_t s, AllocId id, const AllocationSlot& a, uint32_t ps, unsigned j,
                           uint16_t port) const {
    const uint16_t port_be = rte_cpu_to_be_16(port);
    return relay_v6(s) ? t_.channel_of_peer(id, a, peer_ip6(ps, j), port_be, kNow)
                       : t_.channel_of_peer(id, a, rte_cpu_to_be_32(peer_ip4(ps, j)), port_be, kNow);
  }

  void peers(uint32_t s, AllocId id, const AllocationSlot& a, TableTime expires) {
    if (!relay_v6(s)) inline_entries(s, id, a);
    // Granted only ever expired: never permitted.
    for (unsigned j = kExpiredFirst; j < kExpiredEnd; ++j)
      check(!permitted(s, id, a, s, j), "permission: an expired one is permitted", s, id, j);
    // Toggled channels: bound to s's peer of that index, both directions agreeing, or unbound.
    for (unsigned j = kToggledFirst; j < kToggledEnd; ++j) {
      uint32_t ps = 0;
      unsigned pj = 0;
      uint16_t port = 0;
      if (!channel_peer(s, id, a, channel_number(j), ps, pj, port)) continue;
      if (!check(ps == s && pj == j && channel_port_fits(j, port), "channel: bound to another's peer", s,
                 id, ps))
        continue;
      const uint16_t back = channel_of_peer(s, id, a, s, j, port);
      check(back == 0 || back == channel_number(j), "channel: the peer's channel is another", s, id, back);
    }
    if (expires >= kReady) ready(s, id, a);
    previous(s, id, a);
  }

  // The inline words of an IPv4 relayed address: each one whole and s's.
  void inline_entries(uint32_t s, AllocId id, const AllocationSlot& a) {
    for (const auto& p : a.permissions) {
      const uint64_t w = p.load(std::memory_order_acquire);
      if (w == 0) continue;
      uint32_t ps = 0;
      unsigned j = 0;
      check(peer_of(PermissionWord::peer_ip(w), ps, j) && ps == s &&
                expiry_names(PermissionWord::expires(w), j),
            "permission word: not whole, or another allocation's", s, id, w);
    }
    for (const auto& c : a.channels) {
      const uint64_t b = c.binding.load(std::memory_order_acquire);
      if (b == 0) continue;
      const TableTime x = c.expires.load(std::memory_order_acquire);
      uint32_t ps = 0;
      unsigned j = 0, cj = 0;
      check(channel_index(ChannelEntry::channel(b), cj) && peer_of(ChannelEntry::peer_ip(b), ps, j) &&
                ps == s && j == cj && channel_port_fits(j, rte_be_to_cpu_16(ChannelEntry::peer_port(b))) &&
                (x == 0 || expiry_names(x, j)),
            "channel entry: not whole, or another allocation's", s, id, b);
    }
  }

  // Ready: published after its stable permissions and channels, which stay until it is removed.
  void ready(uint32_t s, AllocId id, const AllocationSlot& a) {
    ++counts_.ready;
    for (unsigned j = 0; j < stable_permissions(s); ++j)
      if (!permitted(s, id, a, s, j)) check(removed(a), "permission: a stable one is missing", s, id, j);
    for (unsigned j = 0; j < stable_channels(s); ++j) {
      uint32_t ps = 0;
      unsigned pj = 0;
      uint16_t port = 0;
      if (!channel_peer(s, id, a, channel_number(j), ps, pj, port)) {
        check(removed(a), "channel: a stable one is unbound", s, id, j);
        continue;
      }
      check(ps == s && pj == j && port == kStablePort + j, "channel: a stable one names another peer", s,
            id, (uint64_t{ps} << 32) | (pj << 16) | port);
      if (channel_of_peer(s, id, a, s, j, static_cast<uint16_t>(kStablePort + j)) != channel_number(j))
        check(removed(a), "channel: a stable one's peer has no channel", s, id, j);
    }
  }

  // A slot this reader saw holding another serial before: nothing of that one is left in it.
  void previous(uint32_t s, AllocId id, const AllocationSlot& a) {
    uint32_t& last = last_serial_[slot_index(id)];
    if (last == s) return;
    if (last != kSerialLimit) {
      ++counts_.reused;
      for (unsigned j = 0; j < kExpiredEnd; ++j)
        check(!permitted(s, id, a, last, j), "reused slot: the previous allocation's permission", s, id, last);
      for (unsigned j = 0; j < stable_channels(last); ++j)
        check(channel_of_peer(s, id, a, last, j, static_cast<uint16_t>(kStablePort + j)) == 0,
              "reused slot: the previous allocation's channel", s, id, last);
    }
    last = s;
  }

  const Tables& t_;
  rte_rcu_qsbr* rcu_;
  const unsigned thread_id_;
  const std::atomic<uint32_t>& next_serial_;  // relaxed: no ordering a reader could lean on
  const std::atomic<bool>& running_;
  uint64_t rng_;
  std::vector<uint32_t> last_serial_;  // per slot: the serial this reader last found in it
  ReaderCounts counts_;
  Failure failure_;
};

}  // namespace tern::dp::stress
