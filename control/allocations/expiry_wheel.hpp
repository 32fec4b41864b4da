#pragma once
// A hashed timer wheel of whole seconds (docs/ARCHITECTURE.md "The tables"): nothing has its own
// timer; an allocation is entered at the earliest second something of it expires, and the sweep
// looks at it then. Entries are never cancelled one by one: an allocation refreshed since, or
// gone, is recognised by its serial and the fresh state when the entry comes due, and compact()
// clears such entries out in one pass when they have piled up (an allocation deleted at once
// leaves its entry for a whole lifetime otherwise).

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

class ExpiryWheel {
 public:
  explicit ExpiryWheel(size_t slots = 4096) : slots_(slots == 0 ? 1 : slots) {}

  // Returns the second the entry was made for: `when`, or the next second if that has passed.
  dp::TableTime schedule(dp::AllocId id, uint64_t serial, dp::TableTime when);

  // Calls due(id, serial, when) once for every entry whose time is at or before `now`. `due` may
  // schedule again.
  template <typename Due>
  void advance(dp::TableTime now, Due&& due) {
    if (now <= current_) return;
    const uint64_t steps = std::min<uint64_t>(now - current_, slots_.size());
    const dp::TableTime from = current_;
    current_ = now;  // entries scheduled from here on go ahead of the sweep
    for (uint64_t i = 1; i <= steps; ++i) {
      auto& bucket = slots_[(from + i) % slots_.size()];
      if (bucket.empty()) continue;
      scratch_.clear();
      scratch_.swap(bucket);  // the bucket keeps the scratch's capacity
      for (const Entry& e : scratch_) {
        if (e.when <= now) {
          --size_;
          due(e.id, e.serial, e.when);
        } else {
          slots_[e.when % slots_.size()].push_back(e);  // a later lap
        }
      }
    }
  }

  // Drops every entry stale(id, serial, when) says no longer counts, and gives back the room the
  // buckets no longer need.
  template <typename Stale>
  void compact(Stale&& stale) {
    size_ = 0;
    for (auto& bucket : slots_) {
      std::erase_if(bucket, [&stale](const Entry& e) { return stale(e.id, e.serial, e.when); });
      if (bucket.capacity() > 2 * bucket.size() + kSpare) bucket.shrink_to_fit();
      size_ += bucket.size();
    }
  }

  size_t size() const { return size_; }
  dp::TableTime current() const { return current_; }

 private:
  static constexpr size_t kSpare = 64;  // entries a bucket keeps room for after compact()
  struct Entry {
    dp::AllocId id;
    dp::TableTime when;
    uint64_t serial;
  };
  std::vector<std::vector<Entry>> slots_;
  std::vector<Entry> scratch_;
  dp::TableTime current_ = 0;
  size_t size_ = 0;
};

}  // namespace tern::ctl
