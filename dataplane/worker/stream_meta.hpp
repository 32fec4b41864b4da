#pragma once
// What travels with a TCP or TLS client's data between a worker and the stream transport: the
// allocation and the connection it belongs to. Carried in an mbuf dynamic field registered once at
// setup (like PuntMeta); the packet itself travels on a worker's own single-producer /
// single-consumer rings: to_stream (a peer's data framed for the client, worker -> transport) and
// from_stream (the client's ChannelData or Send indication, transport -> worker). The receiver
// checks the pair against the slot, so data in flight when a slot changes hands is dropped, never
// delivered to the slot's next owner.

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>

#include "dataplane/contract/table_writer.hpp"

namespace tern::dp {

struct StreamMeta {
  AllocId allocation;
  StreamId stream;
};
static_assert(sizeof(StreamMeta) == 8);

// Registers (or finds) the dynamic field; its offset, or -1 with rte_errno set.
inline int register_stream_meta() {
  static const rte_mbuf_dynfield field = {"tern_stream_meta", sizeof(StreamMeta), alignof(StreamMeta), 0};
  return rte_mbuf_dynfield_register(&field);
}

inline StreamMeta& stream_meta(rte_mbuf* m, int offset) {
  return *RTE_MBUF_DYNFIELD(m, offset, StreamMeta*);
}

}  // namespace tern::dp
