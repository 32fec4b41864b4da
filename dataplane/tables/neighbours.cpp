#include "dataplane/tables/neighbours.hpp"

#include <rte_malloc.h>

#include <algorithm>
#include <bit>

namespace tern::dp {

std::unique_ptr<Neighbours> Neighbours::create(unsigned ports, unsigned entries_per_port,
                                               int socket, rte_rcu_qsbr* rcu, std::string& error) {
  if (ports == 0) {
    error = "no ports for the neighbour table";
    return nullptr;
  }
  std::unique_ptr<Neighbours> n(new Neighbours());
  const unsigned size = std::bit_ceil(std::max(entries_per_port, 64u));
  n->ports_ = ports;
  n->mask_ = size - 1;
  n->rcu_ = rcu;
  const size_t total = size_t{ports} * size;
  n->entries_ = static_cast<Entry*>(rte_zmalloc_socket("tern_neighbours", sizeof(Entry) * total,
                                                       RTE_CACHE_LINE_SIZE, socket));
  n->entries6_ = static_cast<Entry6*>(rte_zmalloc_socket("tern_neighbours6", sizeof(Entry6) * total,
                                                         RTE_CACHE_LINE_SIZE, socket));
  if (n->entries_ == nullptr || n->entries6_ == nullptr) {
    error = "not enough DPDK memory for the neighbour table";
    return nullptr;
  }
  n->shadow_.resize(total);
  n->confirmed6_.resize(total);
  return n;
}

Neighbours::~Neighbours() {
  rte_free(entries_);
  rte_free(entries6_);
}

Neighbours::Learned Neighbours::learn(unsigned port, uint32_t ip, MacWord mac, TableTime now) {
  if (ip == kEmpty || ip == kTombstone || port >= ports_) return Learned::invalid;
  Entry* table = table_of(port);
  const size_t base = size_t{port} * (mask_ + 1);
  const uint64_t word = (mac & kMacMask) | kValid;
  unsigned i = slot_of(ip);
  Entry* free_entry = nullptr;
  for (unsigned n = 0; n < kNeighbourProbe; ++n, i = (i + 1) & mask_) {
    Entry& e = table[i];
    const uint32_t key = e.ip.load(std::memory_order_relaxed);
    if (key == ip) {
      Shadow& s = shadow_[base + i];
      const uint64_t old = e.mac.load(std::memory_order_relaxed);
      s.confirmed = now;
      if (s.state == State::forgotten) s.state = State::live;  // back before its grace ended
      if (old == word) return Learned::confirmed;
      e.mac.store(word, std::memory_order_release);
      return Learned::changed;
    }
    if ((key == kTombstone || key == kEmpty) && free_entry == nullptr) free_entry = &e;
    if (key == kEmpty) break;
  }
  if (free_entry == nullptr) return Learned::full;
  const size_t index = base + static_cast<size_t>(free_entry - table);
  free_entry->mac.store(word, std::memory_order_relaxed);
  free_entry->ip.store(ip, std::memory_order_release);  // published with its MAC
  shadow_[index] = {State::live, now, 0};
  return Learned::added;
}

bool Neighbours::forget(unsigned port, uint32_t ip) {
  if (ip == kEmpty || ip == kTombstone || port >= ports_) return false;
  Entry* table = table_of(port);
  const size_t base = size_t{port} * (mask_ + 1);
  unsigned i = slot_of(ip);
  for (unsigned n = 0; n < kNeighbourProbe; ++n, i = (i + 1) & mask_) {
    Entry& e = table[i];
    const uint32_t key = e.ip.load(std::memory_order_relaxed);
    if (key == kEmpty) return false;
    if (key != ip) continue;
    Shadow& s = shadow_[base + i];
    if (s.state != State::live) return false;
    e.mac.store(0, std::memory_order_release);
    s.state = State::forgotten;
    s.token = rcu_ != nullptr ? rte_rcu_qsbr_start(rcu_) : 0;
    forgotten_.push_back(base + i);
    return true;
  }
  return false;
}

void Neighbours::reclaim() {
  auto keep = forgotten_.begin();
  for (const size_t index : forgotten_) {
    Shadow& s = shadow_[index];
    if (s.state != State::forgotten) continue;  // learnt again meanwhile
    if (rcu_ != nullptr && rte_rcu_qsbr_check(rcu_, s.token, false) != 1) {
      *keep++ = index;
      continue;
    }
    entries_[index].ip.store(kTombstone, std::memory_order_release);
    s.state = State::free;
  }
  forgotten_.erase(keep, forgotten_.end());
}

std::vector<Neighbours::Known> Neighbours::known() const {
  std::vector<Known> out;
  const size_t size = size_t{mask_} + 1;
  for (size_t index = 0; index < shadow_.size(); ++index) {
    if (shadow_[index].state != State::live) continue;
    const Entry& e = entries_[index];
    out.push_back({static_cast<unsigned>(index / size), e.ip.load(std::memory_order_relaxed),
                   e.mac.load(std::memory_order_relaxed) & kMacMask, shadow_[index].confirmed});
  }
  return out;
}

// ---- IPv6 ----

Neighbours::Learned Neighbours::learn(unsigned port, const Ip6& ip, MacWord mac, TableTime now) {
  if (ip.zero() || ip.multicast() || port >= ports_) return Learned::invalid;
  Entry6* table = table6_of(port);
  const size_t base = size_t{port} * (mask_ + 1);
  const uint64_t word = (mac & kMacMask) | kValid;
  unsigned i = slot_of(ip);
  Entry6* free_entry = nullptr;
  for (unsigned n = 0; n < kNeighbourProbe; ++n, i = (i + 1) & mask_) {
    Entry6& e = table[i];
    const uint32_t state = e.state.load(std::memory_order_relaxed);
    if ((state & kUsed) && e.ip[0].load(std::memory_order_relaxed) == ip.w[0] &&
        e.ip[1].load(std::memory_order_relaxed) == ip.w[1]) {
      confirmed6_[base + i] = now;
      if (e.mac.load(std::memory_order_relaxed) == word) return Learned::confirmed;
      e.mac.store(word, std::memory_order_release);  // one store: old MAC or new, both this address's
      return Learned::changed;
    }
    if (!(state & kUsed) && free_entry == nullptr) free_entry = &e;
    if (state == kEmpty) break;
  }
  if (free_entry == nullptr) return Learned::full;
  // Readers skip an entry that is not in use, and notice the generation change of one that was.
  const uint32_t generation = (free_entry->state.load(std::memory_order_relaxed) | kUsed) + 1;
  free_entry->ip[0].store(ip.w[0], std::memory_order_relaxed);
  free_entry->ip[1].store(ip.w[1], std::memory_order_relaxed);
  free_entry->mac.store(word, std::memory_order_relaxed);
  free_entry->state.store(generation | kUsed, std::memory_order_release);
  confirmed6_[base + static_cast<size_t>(free_entry - table)] = now;
  return Learned::added;
}

bool Neighbours::forget(unsigned port, const Ip6& ip) {
  if (port >= ports_) return false;
  Entry6* table = table6_of(port);
  unsigned i = slot_of(ip);
  for (unsigned n = 0; n < kNeighbourProbe; ++n, i = (i + 1) & mask_) {
    Entry6& e = table[i];
    const uint32_t state = e.state.load(std::memory_order_relaxed);
    if (state == kEmpty) return false;
    if (!(state & kUsed) || e.ip[0].load(std::memory_order_relaxed) != ip.w[0] ||
        e.ip[1].load(std::memory_order_relaxed) != ip.w[1])
      continue;
    // A tombstone of a new generation: a reader that saw the entry in use sees it change.
    e.state.store((state + 2) & ~kUsed, std::memory_order_release);
    e.mac.store(0, std::memory_order_release);
    return true;
  }
  return false;
}

std::vector<Neighbours::Known6> Neighbours::known6() const {
  std::vector<Known6> out;
  const size_t size = size_t{mask_} + 1;
  for (size_t index = 0; index < confirmed6_.size(); ++index) {
    const Entry6& e = entries6_[index];
    if (!(e.state.load(std::memory_order_relaxed) & kUsed)) continue;
    Ip6 ip;
    ip.w[0] = e.ip[0].load(std::memory_order_relaxed);
    ip.w[1] = e.ip[1].load(std::memory_order_relaxed);
    out.push_back({static_cast<unsigned>(index / size), ip,
                   e.mac.load(std::memory_order_relaxed) & kMacMask, confirmed6_[index]});
  }
  return out;
}

}  // namespace tern::dp
