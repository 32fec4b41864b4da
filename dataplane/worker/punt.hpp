#pragma once
// Punt metadata: why a worker handed a packet to the control lcore, and from where. Carried in an
// mbuf dynamic field registered once at setup; the packet itself travels on the worker's own
// single-producer/single-consumer ring to the control lcore. (Packets waiting for a next hop's
// MAC travel on another ring, the hold ring, and need no metadata: the control lcore routes them
// again from their own headers.)

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>

#include "dataplane/contract/control_io.hpp"

namespace tern::dp {

struct PuntMeta {
  PuntReason reason;
  uint8_t worker;
  uint16_t port;  // DPDK port id it arrived on
};
static_assert(sizeof(PuntMeta) == 4);

// Registers (or finds) the dynamic field; its offset, or -1 with rte_errno set.
inline int register_punt_meta() {
  static const rte_mbuf_dynfield field = {"tern_punt_meta", sizeof(PuntMeta), alignof(PuntMeta), 0};
  return rte_mbuf_dynfield_register(&field);
}

inline PuntMeta& punt_meta(rte_mbuf* m, int offset) {
  return *RTE_MBUF_DYNFIELD(m, offset, PuntMeta*);
}

}  // namespace tern::dp
