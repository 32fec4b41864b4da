#pragma once
// A worker: one lcore's poll loop (docs/ARCHITECTURE.md "The worker loop").
//
//   1. rte_eth_rx_burst on each RX queue it owns; prefetch packet i+N's headers.
//   2. classify, IPv4 and IPv6 alike: ARP, neighbour discovery · ICMP(v6) echo to us · UDP to a
//      listener (ChannelData, STUN) · UDP to a relayed address (peer data) · everything else
//      dropped with a counted reason.
//   3. look up a whole burst's allocations at once (client index: one rte_hash bulk
//      lookup per family; relay index: direct loads), prefetching the slots, then finish each packet in
//      order; a scalar loop handles the tail and is the reference implementation (Mode::scalar
//      runs a whole burst through it; tests compare the two byte for byte).
//   4. the slow path: every other STUN message and ARP/NDP with something to learn go to the control
//      lcore over this worker's punt ring; a full ring drops and counts, never blocks. A relayed
//      packet whose next hop has no MAC address yet is finished all but its Ethernet destination
//      and handed to the control lcore over the hold ring: it waits there while ARP (neighbour
//      discovery) resolves the next hop and leaves on the control TX queue (control_lcore/control_port.hpp).
//   5. rte_eth_tx_burst per port, free what was not sent (counted), RCU quiescent state.
//   The TSC is read once an iteration, for the tables' clock and for the cycle counters.
//
// A worker writes only its own state: its counters, its shard of the per-allocation traffic
// counters, and the atomic rate buckets (max_bps, allocation_pps). Shared tables are read-only to
// it, and so are its settings (SOFTWARE, the rates), loaded once a burst from the board the control
// lcore publishes them on. No locks, no heap, no exceptions, no syscalls in the loop.

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "crypto/engine.hpp"
#include "dataplane/tables/clock.hpp"
#include "dataplane/contract/control_io.hpp"
#include "dataplane/contract/counters.hpp"
#include "dataplane/tables/interfaces.hpp"
#include "dataplane/tables/neighbours.hpp"
#include "dataplane/tables/tables.hpp"
#include "dataplane/contract/trace.hpp"
#include "dataplane/tables/trace_filter.hpp"
#include "dataplane/tables/worker_settings.hpp"
#include "dataplane/worker/trace_budget.hpp"
#include "dataplane/worker/transaction_ids.hpp"

namespace tern::dp {

struct Packet;  // one packet of a burst (packet.hpp)
struct V4;      // the address families (packet.hpp)
struct V6;
template <class F>
struct UdpHeaders;

inline constexpr uint16_t kBurst = 32;
inline constexpr unsigned kGroup = 32;         // packets per bulk lookup: a whole burst, so the
                                               // state of its first packets arrives while the
                                               // last ones are looked up (16: 6% slower at 100k)
inline constexpr unsigned kMinGroup = 4;       // fewer go through the scalar loop
inline constexpr unsigned kPrefetchAhead = 4;  // packets whose headers are prefetched ahead

// What every worker reads and nobody changes while they run (dp: ro, ctl: ro, except the
// tables and the neighbours, which have their own single writer).
struct WorkerShared {
  const Tables* tables = nullptr;
  const Interfaces* interfaces = nullptr;
  const Neighbours* neighbours = nullptr;
  rte_rcu_qsbr* rcu = nullptr;
  uint64_t tsc_hz = 0;
  const WorkerSettingsBoard* settings = nullptr;  // SOFTWARE and the rates, replaced on reload
  const TraceFilter* trace = nullptr;  // ternctl trace's filter; nullptr: never traced
};

// An RX queue a worker polls: a port (index in Interfaces) and a queue of it.
struct RxQueue {
  unsigned port = 0;
  uint16_t queue = 0;
};

// What setup hands to one worker; the worker owns it from then on.
struct WorkerResources {
  unsigned index = 0;                     // worker number and RCU thread id
  std::vector<RxQueue> rx;                // RX queues to poll
  uint16_t tx_queue = 0;                  // its TX queue, the same id on every port
  rte_ring* punt_ring = nullptr;          // -> control lcore: punted mbufs (SP/SC)
  rte_ring* hold_ring = nullptr;          // -> control lcore: packets awaiting a next hop (SP/SC)
  rte_ring* trace_ring = nullptr;         // -> control lcore: TraceRecord elements (SP/SC)
  int punt_offset = -1;                   // PuntMeta dynamic field
  AllocationTraffic* traffic = nullptr;   // this worker's shard, one entry per allocation slot
  // TURN over TCP and TLS (nullptr without TCP or TLS listeners):
  rte_ring* exception_ring = nullptr;     // -> the exception port: frames for the kernel's TCP (SP/SC)
  rte_ring* to_stream_ring = nullptr;     // -> the stream transport: peer data framed for stream clients (SP/SC)
  rte_ring* from_stream_ring = nullptr;   // <- the stream transport: stream clients' ChannelData and Send (SP/SC)
  int stream_offset = -1;                 // StreamMeta dynamic field
  std::unique_ptr<crypto::Engine> engine; // FINGERPRINT's CRC-32
  uint64_t transaction_id_seed = 0;       // Data indications' transaction IDs
  uint16_t first_ip_id = 0;               // IPv4 Identification of the first packet sent
};

class alignas(64) Worker {
 public:
  enum class Mode : uint8_t { bulk, scalar };

  Worker(const WorkerShared& shared, WorkerResources resources);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The lcore's loop: polls until `running` turns false, then drains and goes offline. Counts
  // its cycles (busy_cycles, total_cycles).
  void run(const Clock& clock, const std::atomic<bool>& running);
  // One iteration: every RX queue once, transmit, quiescent state. true when packets came in.
  bool poll(const Clock& clock) { return poll(clock.now()); }
  bool poll(const Instant& now, Mode mode = Mode::bulk);

  // One received burst from `port` (an Interfaces index): classify, relay, answer, punt or drop.
  // Outputs wait in the TX buffers until flush().
  void process(unsigned port, rte_mbuf** pkts, uint16_t n, const Instant& now, Mode mode = Mode::bulk);
  // Hands the buffered packets to the TX queues; frees the dropped ones.
  void flush();

  unsigned index() const { return r_.index; }
  const WorkerCounters& counters() const { return counters_; }

 private:
  void process_group(unsigned port, rte_mbuf** pkts, unsigned first, unsigned count, unsigned n,
                     const Instant& now);
  void process_one(unsigned port, rte_mbuf* m, const Instant& now);
  void account(uint64_t cycles, bool busy);
  void find_allocation(Packet& p) const;

  // worker_trace.cpp: a burst while a trace runs, packet by packet.
  struct Hop;
  void process_traced(unsigned port, rte_mbuf** pkts, uint16_t n, const Instant& now, uint64_t filter);
  Hop hop_of(Packet& p, const Instant& now) const;
  void finish_traced(Packet& p, const Hop& hop, const Instant& now);

  // classify.cpp
  void classify(Packet& p, rte_mbuf* m, unsigned port);
  void classify_ipv4(Packet& p, uint8_t* f, uint16_t len);
  void classify_ipv6(Packet& p, uint8_t* f, uint16_t len);
  void classify_icmp6(Packet& p, uint8_t* l4, uint16_t len);
  template <class Address, class Key>
  void classify_udp(Packet& p, uint8_t* l4, uint16_t udp_len, const Address& src, const Address& dst,
                    Key& key);
  void classify_listener(Packet& p);
  void classify_send(Packet& p);
  void classify_binding(Packet& p);
  bool udp_checksum_ok(const Packet& p) const;
  bool fingerprint_ok(const uint8_t* message, uint16_t fingerprint_at);

  // relay.cpp: RFC 8656 §11-§12 fast paths
  void finish(Packet& p, const Instant& now);
  void client_data(Packet& p, const Instant& now);
  template <class Peer>
  void client_to_peer(Packet& p, const AllocationSlot& a, uint8_t flags, const Instant& now);
  void peer_data(Packet& p, const Instant& now);
  template <class Peer>
  void to_client(Packet& p, AllocId id, const typename Peer::Address& from_ip, uint16_t from_port,
                 bool df, const Instant& now, AllocId hairpin_from = kNoAllocation);
  template <class Peer, class Client>
  void deliver(Packet& p, AllocId id, const AllocationSlot& a, const typename Peer::Address& from_ip,
               uint16_t from_port, uint16_t channel, bool df, AllocId hairpin_from);
  template <class Peer>
  void emit_to_peer(Packet& p, const AllocationSlot& a, AllocId id,
                    const typename Peer::Address& peer_ip, uint16_t peer_port, bool df);
  uint16_t received_envelope(const Packet& p) const;
  uint16_t data_sum(const Packet& p) const;

  // stream.cpp: TCP and TLS clients (the exception path and the stream transport's rings)
  void to_kernel(Packet& p);
  void poll_streams(const Instant& now);
  void stream_ingress(rte_mbuf* m, const Instant& now);
  template <class Peer>
  void deliver_stream(Packet& p, AllocId id, const AllocationSlot& a,
                      const typename Peer::Address& from_ip, uint16_t from_port, uint16_t channel,
                      AllocId hairpin_from);
  template <class Peer>
  uint16_t write_to_client(Packet& p, uint8_t* prefix, uint16_t pad, uint16_t channel,
                           const typename Peer::Address& from_ip, uint16_t from_port);
  void count_to_client(AllocId id, uint16_t len, AllocId hairpin_from);
  bool quotes_our_tcp(const uint8_t* quoted, uint16_t len) const;   // classify.cpp: ICMP, IPv4
  bool quotes_our_tcp6(const uint8_t* quoted, uint16_t len) const;  // ICMPv6

  // local.cpp: what the worker answers itself, and the slow path
  void arp(Packet& p);
  void ndp(Packet& p);
  void icmp_echo(Packet& p);
  void icmp6_echo(Packet& p);
  template <class F>
  void binding(Packet& p);
  void punt(Packet& p, PuntReason reason);

  void drop(rte_mbuf* m, CounterId reason);
  void drop_for(Packet& p, AllocId id, Direction d, CounterId reason);
  // limits.allocation_pps, then limits.max_bps: false when the packet was dropped (and counted).
  bool within_rate(Packet& p, AllocId id, Direction d, const Instant& now);
  void transmit(unsigned port, rte_mbuf* m);
  // A finished packet: onto the port's TX buffer when its next hop's MAC was known, else to the
  // control lcore to wait for it.
  void output(unsigned port, bool resolved, rte_mbuf* m) {
    if (resolved) return transmit(port, m);
    hold(m);
  }
  void hold(rte_mbuf* m);
  uint16_t next_ip_id() { return rte_cpu_to_be_16(ip_id_++); }
  // Writes Ethernet, IP and UDP headers in front of a UDP payload that ends at `end` and fills
  // in the checksums: by the NIC when the port offers it, else from payload_sum (the one's-
  // complement sum of everything after the UDP header). The caller outputs the packet.
  void finish_udp(rte_mbuf* m, uint8_t* start, uint8_t* end, unsigned port, MacWord dst_mac,
                  const UdpHeaders<V4>& h, uint16_t payload_sum);
  void finish_udp(rte_mbuf* m, uint8_t* start, uint8_t* end, unsigned port, MacWord dst_mac,
                  const UdpHeaders<V6>& h, uint16_t payload_sum);

  // ---- read-only shared state ----
  const Tables& tables_;
  const Interfaces& interfaces_;
  const Neighbours& neighbours_;
  rte_rcu_qsbr* rcu_;
  uint64_t tsc_hz_;
  const TraceFilter& trace_filter_;
  const WorkerSettingsBoard& settings_board_;

  // ---- this worker's own state ----
  // The board's current set, loaded at the start of each burst and used until the burst is done
  // (the quiescent state that ends the iteration lets the control lcore free it).
  const WorkerSettings* settings_ = nullptr;
  WorkerResources r_;
  WorkerCounters counters_;
  TransactionIds transaction_ids_;
  uint16_t ip_id_;
  TraceBudget trace_budget_;

  rte_mbuf* tx_[kMaxPorts][2 * kBurst];
  uint16_t tx_count_[kMaxPorts] = {};
  rte_mbuf* dropped_[2 * kBurst];
  uint16_t dropped_count_ = 0;
};

}  // namespace tern::dp
