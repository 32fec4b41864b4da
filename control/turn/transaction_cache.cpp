#include "control/turn/transaction_cache.hpp"

#include <algorithm>
#include <cstring>

namespace tern::ctl {

size_t TransactionKeyHash::operator()(const TransactionKey& key) const {
  const uint64_t a = FiveTupleHash{}(key.five_tuple);
  return keyed_hash(key.id.bytes, a);
}

TransactionCache::TransactionCache(size_t capacity) : slots_(std::max<size_t>(capacity, 1)) {
  index_.reserve(slots_.size());
}

std::span<const uint8_t> TransactionCache::find(const TransactionKey& key, dp::TableTime now) const {
  const auto it = index_.find(key);
  if (it == index_.end()) return {};
  const Slot& slot = slots_[it->second];
  if (slot.expires <= now) return {};
  return {slot.bytes.data(), slot.size};
}

void TransactionCache::evict(Slot& slot) {
  if (slot.expires == 0) return;
  const auto it = index_.find(slot.key);
  if (it != index_.end() && &slots_[it->second] == &slot) index_.erase(it);
  slot.expires = 0;
  --live_;
}

bool TransactionCache::store(const TransactionKey& key, std::span<const uint8_t> response, dp::TableTime now) {
  if (response.size() > kCachedResponseSize) return false;
  if (index_.contains(key)) return true;  // the first answer stands
  Slot& slot = slots_[head_];
  if (slot.expires != 0) {
    evict(slot);
    tail_ = (head_ + 1) % slots_.size();
  }
  slot.key = key;
  slot.expires = now + kTransactionLifetime;
  slot.size = static_cast<uint16_t>(response.size());
  std::memcpy(slot.bytes.data(), response.data(), response.size());
  index_.emplace(key, static_cast<uint32_t>(head_));
  ++live_;
  head_ = (head_ + 1) % slots_.size();
  return true;
}

void TransactionCache::expire(dp::TableTime now) {
  while (live_ > 0) {
    Slot& slot = slots_[tail_];
    if (slot.expires == 0) {
      tail_ = (tail_ + 1) % slots_.size();
      continue;
    }
    if (slot.expires > now) break;
    evict(slot);
    tail_ = (tail_ + 1) % slots_.size();
  }
}

}  // namespace tern::ctl
