#pragma once
// ControlIo over DPDK: the control lcore's end of the workers' punt and resolution rings, its own
// TX queue on every port, and the neighbour table's single writer.
//
// Neighbour upkeep (RFC 826, RFC 1122 §2.3.2.1): a neighbour is learnt from ARP that is for us or
// about a neighbour we know; a next hop a worker could not resolve is asked for with a broadcast
// request (at most once a second per address); a neighbour not confirmed for kNeighbourStale
// seconds is asked again by unicast, and forgotten if it stays silent kNeighbourProbeTime seconds
// more. Requests are limited to kArpRequestsPerSecond overall.

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "dataplane/clock.hpp"
#include "dataplane/control_io.hpp"
#include "dataplane/interfaces.hpp"
#include "dataplane/neighbours.hpp"

namespace tern::dp {

inline constexpr TableTime kNeighbourStale = 60;
inline constexpr TableTime kNeighbourProbeTime = 5;
inline constexpr unsigned kArpRequestsPerSecond = 64;

struct ControlPortSetup {
  const Interfaces* interfaces = nullptr;
  Neighbours* neighbours = nullptr;
  const Clock* clock = nullptr;
  std::vector<rte_ring*> punt_rings;     // one per worker
  std::vector<rte_ring*> resolve_rings;  // one per worker
  std::vector<rte_mempool*> pools;       // per port index: where the control lcore's packets come from
  int punt_offset = -1;
  uint16_t tx_queue = 0;                 // the control lcore's TX queue, the same id on every port
  uint16_t first_ip_id = 0;
};

class ControlPort final : public ControlIo {
 public:
  explicit ControlPort(ControlPortSetup setup);
  ~ControlPort() override = default;

  TableTime now() const override { return setup_.clock->now().table; }
  size_t receive(std::span<PuntedMessage> out) override { return receive_at(out, now()); }
  SendResult reply(const PuntedMessage& to, std::span<const uint8_t> payload) override;
  SendResult send(const TransportAddress& from, const TransportAddress& to,
                  std::span<const uint8_t> payload) override;
  void release(PuntHandle handle) override;
  ControlCounterValues counters() const override { return counters_; }

  // receive() at a given time (tests drive the neighbour upkeep's clock with it).
  size_t receive_at(std::span<PuntedMessage> out, TableTime now);

 private:
  void count(ControlCounterId id, uint64_t n = 1) { counters_[static_cast<size_t>(id)] += n; }
  void upkeep(TableTime now);
  void handle_arp(rte_mbuf* m, uint16_t port_id, TableTime now);
  void handle_resolve(unsigned port, uint32_t ip, TableTime now);
  bool arp_request(unsigned port, uint32_t ip, MacWord dst_mac, TableTime now);
  SendResult send_udp(unsigned port, MacWord dst_mac, uint32_t src_ip, uint16_t src_port,
                      uint32_t dst_ip, uint16_t dst_port, std::span<const uint8_t> payload);
  SendResult transmit(unsigned port, rte_mbuf* m);

  ControlPortSetup setup_;
  const Interfaces& interfaces_;
  Neighbours& neighbours_;
  ControlCounterValues counters_{};
  uint16_t ip_id_;
  TableTime last_upkeep_ = 0;
  TableTime arp_window_ = 0;     // the second the ARP budget below belongs to
  unsigned arp_sent_in_window_ = 0;
  unsigned next_ring_ = 0;       // fairness across workers' punt rings
  // (port << 32 | ip) -> when we last asked for it
  std::unordered_map<uint64_t, TableTime> asked_;
};

}  // namespace tern::dp
