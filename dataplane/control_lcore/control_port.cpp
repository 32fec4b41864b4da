// The control lcore's end of the workers' punt rings (and, on the way, of their hold rings).

#include "dataplane/control_lcore/control_port.hpp"

#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>

#include "dataplane/control_lcore/datagram.hpp"
#include "dataplane/worker/punt.hpp"

namespace tern::dp {

ControlPort::ControlPort(ControlPortSetup setup)
    : setup_(std::move(setup)),
      interfaces_(*setup_.interfaces),
      neighbours_(*setup_.neighbours),
      ip_id_(setup_.first_ip_id),
      hold_ticks_(setup_.clock->hz() / 1000 * kHoldTimeMs) {
  setup_.held_total = std::min(setup_.held_total, kHeldTotal);
}

ControlPort::~ControlPort() {
  for (unsigned i = 0; i < held_count_; ++i) rte_pktmbuf_free(held_[(held_head_ + i) % kHeldTotal].m);
}

size_t ControlPort::receive_at(std::span<PuntedMessage> out, const Instant& now) {
  if (now.table != last_upkeep_) upkeep(now);
  expire_held(now.tsc);

  for (rte_ring* ring : setup_.hold_rings) {
    rte_mbuf* pkts[32];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts), std::size(pkts),
                                          nullptr)) > 0) {
      for (unsigned i = 0; i < n; ++i) hold_from_worker(pkts[i], now);
    }
  }

  size_t filled = 0;
  const size_t rings = setup_.punt_rings.size();
  for (size_t k = 0; k < rings && filled < out.size(); ++k) {
    rte_ring* ring = setup_.punt_rings[(next_ring_ + k) % rings];
    rte_mbuf* pkts[32];
    unsigned n;
    while (filled < out.size() &&
           (n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts),
                                          static_cast<unsigned>(std::min<size_t>(
                                              std::size(pkts), out.size() - filled)),
                                          nullptr)) > 0) {
      for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const PuntMeta meta = punt_meta(m, setup_.punt_offset);
        if (meta.reason == PuntReason::arp) {
          handle_arp(m, meta.port, now);
          continue;
        }
        if (meta.reason == PuntReason::ndp) {
          handle_ndp(m, meta.port, now);
          continue;
        }
        const Datagram d = datagram_of(m);
        PuntedMessage& msg = out[filled++];
        msg.five_tuple.client = transport_of(d.src);
        msg.five_tuple.server = transport_of(d.dst);
        msg.five_tuple.transport = Transport::udp;
        msg.message = {d.payload, d.payload_len};
        msg.reason = meta.reason;
        msg.port = meta.port;
        msg.worker = meta.worker;
        msg.handle = reinterpret_cast<PuntHandle>(m);
        count(ControlCounterId::punts_received);
      }
    }
  }
  next_ring_ = rings ? static_cast<unsigned>((next_ring_ + 1) % rings) : 0;
  return filled;
}

void ControlPort::release(PuntHandle handle) {
  rte_pktmbuf_free(reinterpret_cast<rte_mbuf*>(handle));
}

}  // namespace tern::dp
