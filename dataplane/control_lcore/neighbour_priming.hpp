#pragma once
// The table writer ternd's control plane gets: the tables' own writer, plus one thing more. When
// an allocation is published, or a permission or channel installed, the next hop towards the
// client or the peer is asked for at once if nobody knows its MAC yet, so the first packets
// relayed to it find it (and do not have to wait on the control lcore, control_port.hpp).
//
// Both halves belong to the control lcore (the tables' only writer and the neighbour table's only
// writer run on the same thread), so nothing here is shared with the workers.

#include "dataplane/control_lcore/control_port.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::dp {

class NeighbourPrimingWriter final : public TableWriter {
 public:
  NeighbourPrimingWriter(TableWriter& tables, ControlPort& io) : tables_(tables), io_(io) {}

  WriteResult add_allocation(AllocId id, const AllocationEntry& entry) override {
    const WriteResult r = tables_.add_allocation(id, entry);
    if (r == WriteResult::ok) io_.prepare_route(entry.five_tuple.client.ip);
    return r;
  }
  WriteResult set_allocation_expiry(AllocId id, TableTime expires) override {
    return tables_.set_allocation_expiry(id, expires);
  }
  WriteResult remove_allocation(AllocId id) override { return tables_.remove_allocation(id); }
  WriteResult set_permission(AllocId id, const IpAddress& peer, TableTime expires) override {
    const WriteResult r = tables_.set_permission(id, peer, expires);
    if (r == WriteResult::ok) io_.prepare_route(peer);
    return r;
  }
  WriteResult remove_permission(AllocId id, const IpAddress& peer) override {
    return tables_.remove_permission(id, peer);
  }
  WriteResult set_channel(AllocId id, uint16_t channel, const TransportAddress& peer,
                          TableTime expires) override {
    const WriteResult r = tables_.set_channel(id, channel, peer, expires);
    if (r == WriteResult::ok) io_.prepare_route(peer.ip);
    return r;
  }
  WriteResult remove_channel(AllocId id, uint16_t channel) override {
    return tables_.remove_channel(id, channel);
  }
  size_t reclaimed(std::span<AllocId> out) override { return tables_.reclaimed(out); }

 private:
  TableWriter& tables_;
  ControlPort& io_;
};

}  // namespace tern::dp
