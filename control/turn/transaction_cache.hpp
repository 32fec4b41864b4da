#pragma once
// Answers to retransmitted requests (RFC 8489 §6.3.1): "The easiest way to meet this requirement is
// for the server to remember all transaction IDs received over UDP or DTLS-over-UDP and their
// corresponding responses in the last 40 seconds. However, this requires the server to hold state
// and is inappropriate for any requests that are not authenticated." So only answers to
// authenticated requests are kept, keyed by 5-tuple and transaction ID, and a retransmission gets
// the same bytes again.
//
// Bounded: a ring of `capacity` fixed slots in arrival order, each expiring after 40 s; when the
// ring is full the oldest answer goes first. Answers longer than a slot are not kept (tern's are
// far shorter unless SOFTWARE is very long; an Allocate answer is also kept with its allocation).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "control/base/hash.hpp"
#include "control/stun/message.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

inline constexpr uint32_t kTransactionLifetime = 40;  // seconds (RFC 8489 §6.3.1)
inline constexpr size_t kCachedResponseSize = 512;

struct TransactionKey {
  dp::FiveTuple five_tuple;
  stun::TransactionId id;
  constexpr bool operator==(const TransactionKey&) const = default;
};

struct TransactionKeyHash {
  size_t operator()(const TransactionKey& key) const;
};

class TransactionCache {
 public:
  explicit TransactionCache(size_t capacity = 32768);

  // The answer kept for this transaction, or empty. Valid until the next store().
  std::span<const uint8_t> find(const TransactionKey& key, dp::TableTime now) const;
  // Keeps an answer; false when it is too long to keep.
  bool store(const TransactionKey& key, std::span<const uint8_t> response, dp::TableTime now);
  // Forgets answers older than 40 s.
  void expire(dp::TableTime now);
  size_t size() const { return index_.size(); }
  size_t capacity() const { return slots_.size(); }

 private:
  struct Slot {
    TransactionKey key;
    dp::TableTime expires = 0;  // 0: empty
    uint16_t size = 0;
    std::array<uint8_t, kCachedResponseSize> bytes{};
  };
  void evict(Slot& slot);

  std::vector<Slot> slots_;
  size_t head_ = 0;  // next slot to write; the oldest entry when the ring is full
  size_t tail_ = 0;  // oldest live slot
  size_t live_ = 0;
  std::unordered_map<TransactionKey, uint32_t, TransactionKeyHash> index_;
};

}  // namespace tern::ctl
