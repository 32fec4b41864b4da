#pragma once
// A TableWriter that records every call, keeps the tables it was told about, and holds removed
// slots until the test declares the data plane's grace period over.
//
// It answers as the real writer (dataplane/tables/rcu_writer.hpp) does: tests/unit/dataplane/
// table_writer_contract_test.cpp runs the same cases against both. What it leaves out is how much
// fits: its sets hold `permission_room` and `channel_room` entries per allocation, where the real
// tables hold a few inline and share overflow pools between allocations, and space a removal frees
// is free again at once, where the real writer may wait for the grace period. Reusing a slot
// before reclaimed() returned it is the caller's bug, which the real writer cannot see: here it
// fails the test.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl::test {

struct WriterCall {
  enum class Op { add_allocation, set_allocation_expiry, remove_allocation, set_permission, remove_permission,
                  set_channel, remove_channel };
  Op op = Op::add_allocation;
  dp::AllocId id{};
  dp::TableTime expires = 0;
  IpAddress peer = {};
  uint16_t channel = 0;
  TransportAddress peer_address = {};
  dp::AllocationEntry entry = {};

  // "add_allocation(3 relayed=192.0.2.10:50001 expires=1600)", "set_permission(3 198.51.100.1 1300)"...
  std::string str() const {
    std::ostringstream o;
    switch (op) {
      case Op::add_allocation:
        o << "add_allocation(" << dp::slot_index(id) << " client=" << entry.five_tuple.client.to_string()
          << " relayed=" << entry.relayed.to_string() << " expires=" << entry.expires
          << " df=" << entry.dont_fragment << ")";
        break;
      case Op::set_allocation_expiry: o << "set_allocation_expiry(" << dp::slot_index(id) << " " << expires << ")"; break;
      case Op::remove_allocation: o << "remove_allocation(" << dp::slot_index(id) << ")"; break;
      case Op::set_permission: o << "set_permission(" << dp::slot_index(id) << " " << peer.to_string() << " " << expires << ")"; break;
      case Op::remove_permission: o << "remove_permission(" << dp::slot_index(id) << " " << peer.to_string() << ")"; break;
      case Op::set_channel:
        o << "set_channel(" << dp::slot_index(id) << " 0x" << std::hex << channel << std::dec << " " << peer_address.to_string()
          << " " << expires << ")";
        break;
      case Op::remove_channel: o << "remove_channel(" << dp::slot_index(id) << " 0x" << std::hex << channel << ")"; break;
    }
    return o.str();
  }
};

class FakeTableWriter final : public dp::TableWriter {
 public:
  // What the real tables are made with (dataplane/tables/tables.hpp TablesConfig). The defaults
  // take every allocation the control plane can send.
  struct Shape {
    uint32_t slots = UINT32_MAX - 1;         // AllocId 0 .. slots-1
    std::vector<IpAddress> relay_addresses;  // empty: every relayed address is one of ours
    bool ipv6 = true;                        // IPv6 5-tuples and relayed addresses can come
  };

  FakeTableWriter() = default;
  explicit FakeTableWriter(Shape shape) : shape_(std::move(shape)) {}

  // Decides the result of a call before it is applied; ok by default.
  std::function<dp::WriteResult(const WriterCall&)> result_for;

  dp::WriteResult add_allocation(dp::AllocId id, const dp::AllocationEntry& entry) override {
    WriterCall c{WriterCall::Op::add_allocation, id};
    c.entry = entry;
    c.expires = entry.expires;
    return apply(c, [&] {
      if (dp::slot_index(id) >= shape_.slots || published_.contains(id)) return dp::WriteResult::not_found;
      if (held_.contains(id) || std::find(graced_.begin(), graced_.end(), id) != graced_.end())
        ADD_FAILURE() << "slot " << dp::slot_index(id) << " reused before reclaimed() returned it";
      // RFC 8656 §7.2: the relayed address's family may differ from the client's; a 5-tuple's two
      // sides may not, and IPv6 needs tables made for it.
      const bool client6 = entry.five_tuple.client.ip.is_v6();
      const bool relay6 = entry.relayed.ip.is_v6();
      if (client6 != entry.five_tuple.server.ip.is_v6() || ((client6 || relay6) && !shape_.ipv6) ||
          !ours(entry.relayed.ip))
        return dp::WriteResult::unsupported;
      for (const auto& [other, published] : published_)
        if (published.relayed == entry.relayed) return dp::WriteResult::no_room;  // the port is someone's
      published_[id] = entry;
      return dp::WriteResult::ok;
    });
  }
  dp::WriteResult set_allocation_expiry(dp::AllocId id, dp::TableTime expires) override {
    WriterCall c{WriterCall::Op::set_allocation_expiry, id, expires};
    return apply(c, [&] {
      if (!published_.contains(id)) return dp::WriteResult::not_found;
      published_[id].expires = expires;
      return dp::WriteResult::ok;
    });
  }
  dp::WriteResult remove_allocation(dp::AllocId id) override {
    WriterCall c{WriterCall::Op::remove_allocation, id};
    return apply(c, [&] {
      if (!published_.contains(id)) return dp::WriteResult::not_found;
      published_.erase(id);
      permissions_.erase(id);
      channels_.erase(id);
      held_.insert(id);
      return dp::WriteResult::ok;
    });
  }
  // RFC 8656 §9.1: a peer of the relayed address's family; an IPv4-mapped address is IPv4.
  dp::WriteResult set_permission(dp::AllocId id, const IpAddress& peer, dp::TableTime expires) override {
    WriterCall c{WriterCall::Op::set_permission, id, expires, peer};
    return apply(c, [&] {
      if (!published_.contains(id)) return dp::WriteResult::not_found;
      const IpAddress p = peer.canonical();
      if (p.is_v6() != published_[id].relayed.ip.is_v6()) return dp::WriteResult::unsupported;
      auto& set = permissions_[id];
      if (!set.contains(p) && set.size() >= permission_room) return dp::WriteResult::no_room;
      set[p] = expires;
      return dp::WriteResult::ok;
    });
  }
  dp::WriteResult remove_permission(dp::AllocId id, const IpAddress& peer) override {
    WriterCall c{WriterCall::Op::remove_permission, id, 0, peer};
    return apply(c, [&] {
      auto it = permissions_.find(id);
      if (it == permissions_.end() || it->second.erase(peer.canonical()) == 0) return dp::WriteResult::not_found;
      return dp::WriteResult::ok;
    });
  }
  dp::WriteResult set_channel(dp::AllocId id, uint16_t channel, const TransportAddress& peer,
                              dp::TableTime expires) override {
    WriterCall c{WriterCall::Op::set_channel, id, expires, {}, channel, peer};
    return apply(c, [&] {
      if (!published_.contains(id)) return dp::WriteResult::not_found;
      const TransportAddress p{peer.ip.canonical(), peer.port};
      if (p.ip.is_v6() != published_[id].relayed.ip.is_v6()) return dp::WriteResult::unsupported;
      auto& set = channels_[id];
      // RFC 8656 §12.2: a refresh names the same peer; another one is refused until removed.
      if (auto it = set.find(channel); it != set.end() && it->second.first != p) return dp::WriteResult::not_found;
      if (!set.contains(channel) && set.size() >= channel_room) return dp::WriteResult::no_room;
      set[channel] = {p, expires};
      return dp::WriteResult::ok;
    });
  }
  dp::WriteResult remove_channel(dp::AllocId id, uint16_t channel) override {
    WriterCall c{WriterCall::Op::remove_channel, id, 0, {}, channel};
    return apply(c, [&] {
      auto it = channels_.find(id);
      if (it == channels_.end() || it->second.erase(channel) == 0) return dp::WriteResult::not_found;
      return dp::WriteResult::ok;
    });
  }
  size_t reclaimed(std::span<dp::AllocId> out) override {
    size_t n = 0;
    while (n < out.size() && !graced_.empty()) {
      out[n++] = graced_.front();
      graced_.pop_front();
    }
    return n;
  }

  // The grace period of every slot removed so far has passed.
  void grace() {
    for (const auto id : held_) graced_.push_back(id);
    held_.clear();
  }

  std::vector<std::string> take_calls() {
    std::vector<std::string> out;
    for (const auto& c : calls) out.push_back(c.str());
    calls.clear();
    return out;
  }

  bool published(dp::AllocId id) const { return published_.contains(id); }
  const dp::AllocationEntry& entry(dp::AllocId id) const { return published_.at(id); }
  std::map<IpAddress, dp::TableTime> permissions(dp::AllocId id) const {
    auto it = permissions_.find(id);
    return it == permissions_.end() ? std::map<IpAddress, dp::TableTime>{} : it->second;
  }
  std::map<uint16_t, std::pair<TransportAddress, dp::TableTime>> channels(dp::AllocId id) const {
    auto it = channels_.find(id);
    return it == channels_.end() ? std::map<uint16_t, std::pair<TransportAddress, dp::TableTime>>{} : it->second;
  }
  size_t channel_count(dp::AllocId id) const {
    auto it = channels_.find(id);
    return it == channels_.end() ? 0 : it->second.size();
  }
  size_t held() const { return held_.size(); }

  std::vector<WriterCall> calls;
  size_t permission_room = 1000;
  size_t channel_room = 1000;

 private:
  bool ours(const IpAddress& relayed) const {
    return shape_.relay_addresses.empty() ||
           std::find(shape_.relay_addresses.begin(), shape_.relay_addresses.end(), relayed) !=
               shape_.relay_addresses.end();
  }

  template <typename F>
  dp::WriteResult apply(WriterCall c, F&& body) {
    calls.push_back(c);
    if (result_for) {
      const dp::WriteResult forced = result_for(c);
      if (forced != dp::WriteResult::ok) return forced;
    }
    return body();
  }

  Shape shape_;
  std::map<dp::AllocId, dp::AllocationEntry> published_;
  std::map<dp::AllocId, std::map<IpAddress, dp::TableTime>> permissions_;
  std::map<dp::AllocId, std::map<uint16_t, std::pair<TransportAddress, dp::TableTime>>> channels_;
  std::set<dp::AllocId> held_;
  std::deque<dp::AllocId> graced_;
};

}  // namespace tern::ctl::test
