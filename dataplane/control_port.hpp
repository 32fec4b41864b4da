#pragma once
// ControlIo over DPDK: the control lcore's end of the workers' punt and resolution rings, its own
// TX queue on every port, and the neighbour table's single writer.
//
// Neighbour upkeep (RFC 826, RFC 1122 §2.3.2.1): a neighbour is learnt from ARP that is for us or
// about a neighbour we know; a next hop nobody knows is asked for with a broadcast request (at
// most once a second per address); a neighbour not confirmed for kNeighbourStale seconds is asked
// again by unicast, and forgotten if it stays silent kNeighbourProbeTime seconds more. Requests
// are limited to kArpRequestsPerSecond overall.
//
// Packets waiting for a next hop (RFC 1122 §2.3.2.2: "SHOULD save (rather than discard) at least
// one (the latest) packet"; Linux keeps a queue per unresolved neighbour): a worker hands a relayed
// packet whose next hop has no MAC address over its hold ring, finished but for the Ethernet
// destination. It waits here, at most kHeldPerNeighbour per next hop and kHeldTotal in all, while
// the next hop is asked for (again each second while packets wait); when the answer is learnt the
// packets leave on the control TX queue in the order they came. What waits kHoldTime, or finds
// its queue full, is dropped and counted. The next hop of a new permission or channel is asked for
// at once, before its first packet (prepare_route(), through NeighbourPrimingWriter), so most
// packets never wait.

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
#include "dataplane/trace_hub.hpp"

namespace tern::dp {

inline constexpr TableTime kNeighbourStale = 60;
inline constexpr TableTime kNeighbourProbeTime = 5;
inline constexpr unsigned kArpRequestsPerSecond = 64;
inline constexpr unsigned kHeldPerNeighbour = 64;
inline constexpr unsigned kHeldTotal = 1024;
inline constexpr uint64_t kHoldTimeMs = 1000;  // kHoldTime

struct ControlPortSetup {
  const Interfaces* interfaces = nullptr;
  Neighbours* neighbours = nullptr;
  const Clock* clock = nullptr;
  std::vector<rte_ring*> punt_rings;     // one per worker
  std::vector<rte_ring*> hold_rings;     // one per worker: packets awaiting a next hop
  std::vector<rte_mempool*> pools;       // per port index: where the control lcore's packets come from
  int punt_offset = -1;
  uint16_t tx_queue = 0;                 // the control lcore's TX queue, the same id on every port
  uint16_t first_ip_id = 0;
  unsigned held_per_neighbour = kHeldPerNeighbour;  // packets waiting for one next hop
  unsigned held_total = kHeldTotal;                 // in all (at most kHeldTotal)
  TraceHub* trace = nullptr;                        // waiting packets' fates, when traced
};

class ControlPort final : public ControlIo {
 public:
  explicit ControlPort(ControlPortSetup setup);
  ~ControlPort() override;  // frees the packets still waiting

  TableTime now() const override { return setup_.clock->now().table; }
  size_t receive(std::span<PuntedMessage> out) override {
    return receive_at(out, setup_.clock->now());
  }
  SendResult reply(const PuntedMessage& to, std::span<const uint8_t> payload) override;
  SendResult send(const TransportAddress& from, const TransportAddress& to,
                  std::span<const uint8_t> payload) override;
  void release(PuntHandle handle) override;
  ControlCounterValues counters() const override { return counters_; }

  // receive() at a given time (tests drive the neighbour upkeep's clock with it).
  size_t receive_at(std::span<PuntedMessage> out, const Now& now);
  size_t receive_at(std::span<PuntedMessage> out, TableTime now) {
    return receive_at(out, setup_.clock->at(now));
  }

  // Starts resolving the next hop towards `destination` unless it is known (or ours, or has no
  // route): traffic to a peer the control plane has just permitted then finds its MAC.
  void prepare_route(const IpAddress& destination);
  unsigned held() const { return held_count_; }

 private:
  // A packet waiting for its next hop; key = asked_key(port, next hop).
  struct Held {
    rte_mbuf* m;
    uint64_t key;
    uint64_t deadline;  // TSC
  };

  void count(ControlCounterId id, uint64_t n = 1) { counters_[static_cast<size_t>(id)] += n; }
  void upkeep(const Now& now);
  void handle_arp(rte_mbuf* m, uint16_t port_id, const Now& now);
  bool resolve(unsigned port, uint32_t ip, TableTime now);
  bool arp_request(unsigned port, uint32_t ip, MacWord dst_mac, TableTime now);
  rte_mbuf* build_udp(unsigned port, MacWord dst_mac, uint32_t src_ip, uint16_t src_port,
                      uint32_t dst_ip, uint16_t dst_port, std::span<const uint8_t> payload,
                      SendResult& result);
  SendResult transmit(unsigned port, rte_mbuf* m);
  void transmit_burst(unsigned port, rte_mbuf** pkts, unsigned n);
  bool hold(rte_mbuf* m, unsigned port, uint32_t next_hop, const Now& now);
  void hold_from_worker(rte_mbuf* m, const Now& now);
  void release_held(unsigned port, uint32_t next_hop, MacWord mac);
  void expire_held(uint64_t tsc);
  void forget_waiting(uint64_t key);
  void trace_held(rte_mbuf* m, TraceOutcome outcome);

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
  // Packets waiting for their next hop, oldest first: a ring of kHeldTotal, kept contiguous.
  Held held_[kHeldTotal];
  unsigned held_head_ = 0;
  unsigned held_count_ = 0;
  std::unordered_map<uint64_t, unsigned> waiting_;  // key -> packets held for it
  uint64_t hold_ticks_;                             // kHoldTimeMs in TSC ticks
};

}  // namespace tern::dp
