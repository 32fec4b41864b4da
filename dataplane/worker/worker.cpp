#include "dataplane/worker/worker.hpp"

#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstring>

#include "dataplane/worker/punt.hpp"
#include "dataplane/wire/stun.hpp"
#include "dataplane/worker/packet.hpp"

namespace tern::dp {
namespace {

const TraceFilter kNeverTraced;

}  // namespace

Worker::Worker(const WorkerShared& shared, WorkerResources resources)
    : tables_(*shared.tables),
      interfaces_(*shared.interfaces),
      neighbours_(*shared.neighbours),
      rcu_(shared.rcu),
      tsc_hz_(shared.tsc_hz),
      trace_filter_(shared.trace != nullptr ? *shared.trace : kNeverTraced),
      settings_board_(*shared.settings),
      r_(std::move(resources)),
      transaction_ids_(r_.transaction_id_seed),
      ip_id_(r_.first_ip_id),
      trace_budget_(shared.tsc_hz, kTraceRate, kTraceBurst) {}

Worker::~Worker() {
  flush();
}

// The TSC is read once an iteration: it is the iteration's clock, and the difference to the next
// reading is the iteration's cost, counted as busy when it received packets.
void Worker::run(const Clock& clock, const std::atomic<bool>& running) {
  if (rcu_ != nullptr) rte_rcu_qsbr_thread_online(rcu_, r_.index);
  uint64_t last = rte_rdtsc();
  bool busy = false;
  while (running.load(std::memory_order_relaxed)) {
    const uint64_t tsc = rte_rdtsc();
    account(tsc - last, busy);
    last = tsc;
    busy = poll(Instant{clock.table_time(tsc), tsc});
  }
  account(rte_rdtsc() - last, busy);
  flush();
  if (rcu_ != nullptr) rte_rcu_qsbr_thread_offline(rcu_, r_.index);
}

void Worker::account(uint64_t cycles, bool busy) {
  counters_[CounterId::total_cycles].add(cycles);
  if (busy) counters_[CounterId::busy_cycles].add(cycles);
}

bool Worker::poll(const Instant& now, Mode mode) {
  rte_mbuf* pkts[kBurst];
  bool received = false;
  for (const RxQueue& q : r_.rx) {
    const uint16_t n = rte_eth_rx_burst(interfaces_.port(q.port).port_id, q.queue, pkts, kBurst);
    if (n == 0) continue;
    received = true;
    process(q.port, pkts, n, now, mode);
    flush();
  }
  if (r_.from_stream_ring != nullptr) {
    poll_streams(now);
    flush();
  }
  if (rcu_ != nullptr) rte_rcu_qsbr_quiescent(rcu_, r_.index);
  return received;
}

void Worker::process(unsigned port, rte_mbuf** pkts, uint16_t n, const Instant& now, Mode mode) {
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
  counters_[CounterId::rx_packets].add(n);
  counters_[CounterId::rx_bytes].add(bytes);
  settings_ = settings_board_.current();
  // Tracing costs nothing else while it is off.
  const uint64_t trace = trace_filter_.state.load(std::memory_order_relaxed);
  if (trace != 0) [[unlikely]]
    return process_traced(port, pkts, n, now, trace);
  for (unsigned i = 0; i < std::min<unsigned>(n, kPrefetchAhead); ++i)
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));

  unsigned i = 0;
  if (mode == Mode::bulk) {
    while (n - i >= kMinGroup) {
      const unsigned count = std::min<unsigned>(kGroup, n - i);
      process_group(port, pkts, i, count, n, now);
      i += count;
    }
  }
  // The scalar loop: the tail of a bulk burst, and the reference implementation.
  for (; i < n; ++i) {
    if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    process_one(port, pkts[i], now);
  }
}

void Worker::process_one(unsigned port, rte_mbuf* m, const Instant& now) {
  Packet p;
  classify(p, m, port);
  find_allocation(p);
  finish(p, now);
}

void Worker::find_allocation(Packet& p) const {
  if (from_client(p.kind)) {
    p.id = p.ipv6 ? tables_.find_client(p.key6) : tables_.find_client(p.key);
  } else if (p.kind == Kind::peer) {
    p.id = tables_.find_relay(p.relay_index, p.dst_port);
  }
}

// Classify a group, look its allocations up together, prefetch what finishing will read, then
// finish every packet in arrival order (the same order as the scalar loop, so both produce the
// same packets).
void Worker::process_group(unsigned port, rte_mbuf** pkts, unsigned first, unsigned count,
                           unsigned n, const Instant& now) {
  Packet group[kGroup];
  const ClientKey* keys[kGroup];
  uint8_t client_of[kGroup];
  const ClientKey6* keys6[kGroup];
  uint8_t client6_of[kGroup];
  uint8_t peer_of[kGroup];
  unsigned clients = 0;
  unsigned clients6 = 0;
  unsigned peers = 0;

  for (unsigned j = 0; j < count; ++j) {
    const unsigned ahead = first + j + kPrefetchAhead;
    if (ahead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[ahead], void*));
    Packet& p = group[j];
    classify(p, pkts[first + j], port);
    if (from_client(p.kind)) {
      if (p.ipv6) {
        keys6[clients6] = &p.key6;
        client6_of[clients6++] = static_cast<uint8_t>(j);
      } else {
        keys[clients] = &p.key;
        client_of[clients++] = static_cast<uint8_t>(j);
      }
    } else if (p.kind == Kind::peer) {
      tables_.prefetch_relay(p.relay_index, p.dst_port);
      peer_of[peers++] = static_cast<uint8_t>(j);
    }
  }

  // The allocations' packet buckets are read (and written) by every relayed packet while
  // allocation_pps is set (the default); the byte buckets, rarer, are not prefetched.
  const bool limited = settings_->limits.packets.limited();
  if (clients > 0) {
    AllocId ids[kGroup];
    tables_.find_clients(keys, clients, ids);
    for (unsigned k = 0; k < clients; ++k) {
      Packet& p = group[client_of[k]];
      p.id = ids[k];
      if (p.id == kNoAllocation) continue;
      if (p.kind == Kind::channel_data)
        tables_.prefetch_with_channels(p.id);
      else
        tables_.prefetch(p.id);
      rte_prefetch0(&r_.traffic[slot_index(p.id)]);
      if (limited) rte_prefetch0(&tables_.packet_buckets(p.id));
    }
  }
  if (clients6 > 0) {
    AllocId ids[kGroup];
    tables_.find_clients(keys6, clients6, ids);
    for (unsigned k = 0; k < clients6; ++k) {
      Packet& p = group[client6_of[k]];
      p.id = ids[k];
      if (p.id == kNoAllocation) continue;
      tables_.prefetch_with_channels(p.id);
      tables_.prefetch6(p.id);
      rte_prefetch0(&r_.traffic[slot_index(p.id)]);
      if (limited) rte_prefetch0(&tables_.packet_buckets(p.id));
    }
  }
  for (unsigned k = 0; k < peers; ++k) {
    Packet& p = group[peer_of[k]];
    p.id = tables_.find_relay(p.relay_index, p.dst_port);
    if (p.id == kNoAllocation) continue;
    tables_.prefetch_with_channels(p.id);
    rte_prefetch0(&r_.traffic[slot_index(p.id)]);
    if (limited) rte_prefetch0(&tables_.packet_buckets(p.id));
  }

  for (unsigned j = 0; j < count; ++j) finish(group[j], now);
}

void Worker::transmit(unsigned port, rte_mbuf* m) {
  tx_[port][tx_count_[port]++] = m;
  if (tx_count_[port] == std::size(tx_[port])) flush();
}

void Worker::drop(rte_mbuf* m, CounterId reason) {
  counters_[reason].add(1);
  dropped_[dropped_count_++] = m;
  if (dropped_count_ == std::size(dropped_)) {
    rte_pktmbuf_free_bulk(dropped_, dropped_count_);
    dropped_count_ = 0;
  }
}

// Every allocation is held to the rates of the settings in force; its buckets hold only their
// theoretical arrival times, so a reload's new rates apply to live allocations from this burst on.
bool Worker::within_rate(Packet& p, AllocId id, Direction d, const Instant& now) {
  const RateLimits& limits = settings_->limits;
  if (limits.packets.limited() && !tables_.packet_buckets(id).take(d, limits.packets, 1, now.tsc)) {
    drop_for(p, id, d, CounterId::drop_packet_rate_limited);
    return false;
  }
  if (limits.bytes.limited() && !tables_.byte_buckets(id).take(d, limits.bytes, p.data_len, now.tsc)) {
    drop_for(p, id, d, CounterId::drop_rate_limited);
    return false;
  }
  return true;
}

void Worker::drop_for(Packet& p, AllocId id, Direction d, CounterId reason) {
  AllocationTraffic& t = r_.traffic[slot_index(id)];
  const auto why = static_cast<size_t>(allocation_drop(reason));
  bump(d == Direction::to_peer ? t.drops_to_peer[why] : t.drops_to_client[why], 1u);
  drop(p.m, reason);
}

void Worker::flush() {
  for (unsigned port = 0; port < interfaces_.port_count(); ++port) {
    const uint16_t count = tx_count_[port];
    if (count == 0) continue;
    rte_mbuf** pkts = tx_[port];
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < count; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
    const uint16_t sent =
        rte_eth_tx_burst(interfaces_.port(port).port_id, r_.tx_queue, pkts, count);
    if (sent < count) {
      for (uint16_t i = sent; i < count; ++i) bytes -= rte_pktmbuf_pkt_len(pkts[i]);
      rte_pktmbuf_free_bulk(pkts + sent, count - sent);
      counters_[CounterId::drop_tx_full].add(count - sent);
    }
    counters_[CounterId::tx_packets].add(sent);
    counters_[CounterId::tx_bytes].add(bytes);
    tx_count_[port] = 0;
  }
  if (dropped_count_ > 0) {
    rte_pktmbuf_free_bulk(dropped_, dropped_count_);
    dropped_count_ = 0;
  }
}

// The next hop has no MAC address yet: the control lcore holds the packet while it resolves it
// (control_lcore/control_port.hpp). A full ring drops, never waits.
void Worker::hold(rte_mbuf* m) {
  if (r_.hold_ring == nullptr || rte_ring_sp_enqueue(r_.hold_ring, m) != 0)
    return drop(m, CounterId::drop_hold_ring_full);
  counters_[CounterId::neighbour_wait].add(1);
}

}  // namespace tern::dp
