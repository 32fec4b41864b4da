#pragma once
// ControlIo over DPDK: the control lcore's end of the workers' punt and resolution rings, its own
// TX queue on every port, and the neighbour table's single writer.
//
// Neighbour upkeep (RFC 826, RFC 1122 §2.3.2.1; RFC 4861 for IPv6): a neighbour is learnt from
// ARP (a neighbour solicitation or advertisement) that is for us or about a neighbour we know; a
// next hop nobody knows is asked for with a broadcast request (a solicitation to its
// solicited-node group), at most once a second per address; a neighbour not confirmed for
// kNeighbourStale seconds is asked again by unicast, and forgotten if it stays silent
// kNeighbourProbeTime seconds more. Requests of both kinds are limited to kArpRequestsPerSecond.
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

#include "dataplane/control_lcore/datagram.hpp"
#include "dataplane/tables/clock.hpp"
#include "dataplane/contract/control_io.hpp"
#include "dataplane/tables/interfaces.hpp"
#include "dataplane/tables/neighbours.hpp"
#include "dataplane/control_lcore/trace_hub.hpp"

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

// A next hop on a port, of either family (the control side's key for resolution and waiting).
struct NextHop {
  unsigned port = kNoPort;
  bool ipv6 = false;
  uint32_t ip = 0;  // IPv4, network order
  Ip6 ip6{};
  static NextHop v4(unsigned port, uint32_t ip) { return {port, false, ip, Ip6{}}; }
  static NextHop v6(unsigned port, const Ip6& ip) { return {port, true, 0, ip}; }
  friend bool operator==(const NextHop& a, const NextHop& b) {
    return a.port == b.port && a.ipv6 == b.ipv6 && a.ip == b.ip && a.ip6 == b.ip6;
  }
};
struct NextHopHash {
  size_t operator()(const NextHop& h) const {
    return h.ipv6 ? h.ip6.hash() ^ h.port : (uint64_t{h.port} << 32) | h.ip;
  }
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
  size_t receive_at(std::span<PuntedMessage> out, const Instant& now);
  size_t receive_at(std::span<PuntedMessage> out, TableTime now) {
    return receive_at(out, setup_.clock->at(now));
  }

  // Starts resolving the next hop towards `destination` unless it is known (or ours, or has no
  // route): traffic to a peer the control plane has just permitted then finds its MAC.
  void prepare_route(const IpAddress& destination);
  unsigned held() const { return held_count_; }

 private:
  // A packet waiting for its next hop.
  struct Held {
    rte_mbuf* m;
    NextHop hop;
    uint64_t deadline;  // TSC
  };

  void count(ControlCounterId id, uint64_t n = 1) { counters_[static_cast<size_t>(id)] += n; }
  void upkeep(const Instant& now);
  void handle_arp(rte_mbuf* m, uint16_t port_id, const Instant& now);
  void handle_ndp(rte_mbuf* m, uint16_t port_id, const Instant& now);
  void learned(const NextHop& hop, MacWord mac, Neighbours::Learned result, bool ipv6);
  bool resolve(const NextHop& hop, TableTime now);
  bool request_budget(TableTime now);
  bool arp_request(unsigned port, uint32_t ip, MacWord dst_mac, TableTime now);
  bool solicit(unsigned port, const Ip6& target, MacWord dst_mac, bool unicast, TableTime now);
  rte_mbuf* build_udp(unsigned port, MacWord dst_mac, const Endpoint& src, const Endpoint& dst,
                      std::span<const uint8_t> payload, SendResult& result);
  SendResult transmit(unsigned port, rte_mbuf* m);
  void transmit_burst(unsigned port, rte_mbuf** pkts, unsigned n);
  bool hold(rte_mbuf* m, const NextHop& hop, const Instant& now);
  void hold_from_worker(rte_mbuf* m, const Instant& now);
  void release_held(const NextHop& hop, MacWord mac);
  void expire_held(uint64_t tsc);
  void forget_waiting(const NextHop& hop);
  void trace_held(rte_mbuf* m, TraceOutcome outcome);

  ControlPortSetup setup_;
  const Interfaces& interfaces_;
  Neighbours& neighbours_;
  ControlCounterValues counters_{};
  uint16_t ip_id_;
  TableTime last_upkeep_ = 0;
  TableTime request_window_ = 0;  // the second the ARP/NDP budget below belongs to
  unsigned requests_in_window_ = 0;
  unsigned next_ring_ = 0;        // fairness across workers' punt rings
  // next hop -> when we last asked for it
  std::unordered_map<NextHop, TableTime, NextHopHash> asked_;
  // Packets waiting for their next hop, oldest first: a ring of kHeldTotal, kept contiguous.
  Held held_[kHeldTotal];
  unsigned held_head_ = 0;
  unsigned held_count_ = 0;
  std::unordered_map<NextHop, unsigned, NextHopHash> waiting_;  // packets held per next hop
  uint64_t hold_ticks_;                                         // kHoldTimeMs in TSC ticks
};

}  // namespace tern::dp
