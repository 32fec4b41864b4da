#pragma once
// The writer of the RCU stress test: the control lcore's part, through the real TableWriter, as
// fast as it can. It adds allocations (each published pending, given its stable permissions and
// channels, then made ready), refreshes and expires them, grants, refreshes and removes
// permissions, binds, refreshes and unbinds channels, removes allocations and takes back the slots
// and relayed ports the writer reports reclaimed, the way the control plane keeps its free lists.

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "tests/unit/dataplane/rcu_stress_model.hpp"

namespace tern::dp::stress {

struct WriterCounts {
  uint64_t steps = 0;
  uint64_t added = 0;
  uint64_t removed = 0;
  uint64_t reclaimed = 0;
  uint64_t expiry_changes = 0;
  uint64_t permission_changes = 0;
  uint64_t channel_changes = 0;
  uint64_t errors = 0;  // a write that should have been ok and was not
  const char* first_error = nullptr;
  WriteResult first_result = WriteResult::ok;
};

class Writer {
 public:
  Writer(TableWriter& writer, uint32_t capacity, std::atomic<uint32_t>& next_serial, uint64_t seed)
      : w_(writer),
        capacity_(capacity),
        next_serial_(next_serial),
        rng_(seed | 1),
        endpoint_busy_((kRelays4 + 1) << 16, 0),
        endpoint_of_slot_(capacity, 0) {
    for (uint32_t i = capacity; i > 0; --i) free_.push_back(AllocId{i - 1});
  }

  // One change, chosen at random; the table stays between half and entirely full.
  void step() {
    ++counts_.steps;
    if (counts_.steps % 32 == 0) reclaim();
    const uint64_t r = random() % 100;
    if (live_.size() < capacity_ / 2 || r < 15) return add();
    if (r < 30) return remove(random() % live_.size());
    Live& l = live_[random() % live_.size()];
    if (r < 40) return expiry(l);
    if (r < 60) return toggle_permission(l);
    if (r < 65) return expired_permission(l);
    if (r < 75) return refresh(l);
    toggle_channel(l);
  }

  // Everything removed (no reader is left online) and every slot taken back.
  void drain() {
    while (!live_.empty()) remove(live_.size() - 1);
    reclaim();
  }

  bool serials_left() const { return next_ < kSerialLimit; }
  const WriterCounts& counts() const { return counts_; }

 private:
  struct Live {
    AllocId id;
    uint32_t serial;
    uint32_t granted = 0;  // toggled and expired permissions present, by peer index
    uint32_t bound = 0;    // toggled channels bound, by peer index
    unsigned version = 0;  // bindings of toggled channels so far: each takes another port
  };

  uint64_t random() {  // xorshift64
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }
  TableTime later(unsigned j) { return peer_expiry(j, 80 + static_cast<unsigned>(random() % 900)); }

  void ok(WriteResult r, const char* what) {
    if (r == WriteResult::ok) return;
    if (counts_.errors++ == 0) {
      counts_.first_error = what;
      counts_.first_result = r;
    }
  }

  void add() {
    if (free_.empty()) return reclaim();
    uint32_t s = next_;
    while (s < kSerialLimit && endpoint_busy_[relay_endpoint(s)]) ++s;  // its port is still someone's
    if (s >= kSerialLimit) return;
    next_ = s + 1;
    const AllocId id = free_.back();
    free_.pop_back();
    ok(w_.add_allocation(id, allocation(s)), "add_allocation");
    for (unsigned j = 0; j < stable_permissions(s); ++j)
      ok(w_.set_permission(id, peer_address(s, j), later(j)), "set_permission (stable)");
    for (unsigned j = 0; j < stable_channels(s); ++j)
      ok(w_.set_channel(id, channel_number(j), {peer_address(s, j), Port{channel_port(j, 0)}}, later(j)),
         "set_channel (stable)");
    ok(w_.set_allocation_expiry(id, kReady + static_cast<TableTime>(random() % 1000)), "set_allocation_expiry (ready)");
    endpoint_busy_[relay_endpoint(s)] = 1;
    endpoint_of_slot_[slot_index(id)] = relay_endpoint(s);
    live_.push_back({id, s});
    ++counts_.added;
    next_serial_.store(next_, std::memory_order_relaxed);
  }

  void remove(size_t i) {
    ok(w_.remove_allocation(live_[i].id), "remove_allocation");
    live_[i] = live_.back();
    live_.pop_back();
    ++counts_.removed;
  }

  // The slots whose grace period has passed, and their relayed ports, are free again.
  void reclaim() {
    AllocId out[64];
    size_t n;
    while ((n = w_.reclaimed(out)) > 0) {
      for (const AllocId id : std::span(out, n)) {
        free_.push_back(id);
        endpoint_busy_[endpoint_of_slot_[slot_index(id)]] = 0;
      }
      counts_.reclaimed += n;
    }
  }

  // A refresh, now and then to a time already past (expired, not yet removed), and back.
  void expiry(Live& l) {
    const TableTime t = random() % 8 == 0 ? kExpired : kReady + static_cast<TableTime>(random() % 1000);
    ok(w_.set_allocation_expiry(l.id, t), "set_allocation_expiry");
    ++counts_.expiry_changes;
  }

  void toggle_permission(Live& l) {
    const unsigned j = kToggledFirst + static_cast<unsigned>(random() % (kToggledEnd - kToggledFirst));
    if (l.granted & (1u << j))
      ok(w_.remove_permission(l.id, peer_address(l.serial, j)), "remove_permission");
    else
      ok(w_.set_permission(l.id, peer_address(l.serial, j), later(j)), "set_permission");
    l.granted ^= 1u << j;
    ++counts_.permission_changes;
  }

  // A permission that is there but already expired (or gone again).
  void expired_permission(Live& l) {
    const unsigned j = kExpiredFirst + static_cast<unsigned>(random() % (kExpiredEnd - kExpiredFirst));
    if ((l.granted & (1u << j)) && random() % 2 == 0) {
      ok(w_.remove_permission(l.id, peer_address(l.serial, j)), "remove_permission (expired)");
      l.granted &= ~(1u << j);
    } else {
      ok(w_.set_permission(l.id, peer_address(l.serial, j), peer_expiry(j, static_cast<unsigned>(random() % 2))),
         "set_permission (expired)");
      l.granted |= 1u << j;
    }
    ++counts_.permission_changes;
  }

  // A stable permission or channel refreshed to a new expiry.
  void refresh(Live& l) {
    if (random() % 2 == 0) {
      const unsigned j = static_cast<unsigned>(random() % stable_permissions(l.serial));
      ok(w_.set_permission(l.id, peer_address(l.serial, j), later(j)), "set_permission (refresh)");
      ++counts_.permission_changes;
    } else {
      const unsigned j = static_cast<unsigned>(random() % stable_channels(l.serial));
      ok(w_.set_channel(l.id, channel_number(j), {peer_address(l.serial, j), Port{channel_port(j, 0)}}, later(j)),
         "set_channel (refresh)");
      ++counts_.channel_changes;
    }
  }

  // A toggled channel unbound, or bound again to the same peer IP on another port.
  void toggle_channel(Live& l) {
    const unsigned j = kToggledFirst + static_cast<unsigned>(random() % (kToggledEnd - kToggledFirst));
    if (l.bound & (1u << j)) {
      ok(w_.remove_channel(l.id, channel_number(j)), "remove_channel");
    } else {
      const TransportAddress peer{peer_address(l.serial, j), Port{channel_port(j, ++l.version)}};
      ok(w_.set_channel(l.id, channel_number(j), peer, later(j)), "set_channel");
    }
    l.bound ^= 1u << j;
    ++counts_.channel_changes;
  }

  TableWriter& w_;
  const uint32_t capacity_;
  std::atomic<uint32_t>& next_serial_;  // relaxed: readers only pick serials from it
  uint64_t rng_;
  uint32_t next_ = 0;
  std::vector<AllocId> free_;              // slots the control plane may use
  std::vector<uint8_t> endpoint_busy_;     // relayed (index, port): live, or removed and not reclaimed
  std::vector<uint32_t> endpoint_of_slot_;
  std::vector<Live> live_;
  WriterCounts counts_;
};

}  // namespace tern::dp::stress
