// The worker's side of TURN over TCP and TLS. tern has no TCP of its own: a segment for a TCP or
// TLS listener goes to the kernel behind the exception path (dataplane/exception), whose sockets
// the stream transport serves. Once a stream client has an allocation, its data takes the fast
// paths like a UDP client's: the transport hands its ChannelData and Send indications to the
// worker that owns the allocation's traffic shard (from_stream ring), and a peer's data for it
// leaves framed on the to_stream ring (relay.cpp, deliver_stream) instead of in a datagram.

#include <rte_ring.h>

#include "dataplane/wire/stun.hpp"
#include "dataplane/worker/packet.hpp"
#include "dataplane/worker/stream_meta.hpp"
#include "dataplane/worker/worker.hpp"

namespace tern::dp {

// The frame as received: the exception port addresses it to the kernel's end of the tap.
void Worker::to_kernel(Packet& p) {
  if (r_.exception_ring == nullptr || rte_ring_sp_enqueue(r_.exception_ring, p.m) != 0)
    return drop(p.m, CounterId::drop_exception_ring_full);
  counters_[CounterId::to_kernel].add(1);
}

void Worker::poll_streams(const Instant& now) {
  rte_mbuf* pkts[kBurst];
  const unsigned n = rte_ring_sc_dequeue_burst(r_.from_stream_ring, reinterpret_cast<void**>(pkts), kBurst, nullptr);
  if (n == 0) return;
  counters_[CounterId::rx_packets].add(n);
  settings_ = settings_board_.current();
  for (unsigned i = 0; i < n; ++i) stream_ingress(pkts[i], now);
}

// RFC 8656 §12.6 / §11.2 from a stream: one ChannelData message (padded) or Send indication, cut
// from the client's stream by the transport, for the allocation the transport names. It must
// still be that connection's: a slot freed and taken by another client in between drops it.
void Worker::stream_ingress(rte_mbuf* m, const Instant& now) {
  const StreamMeta meta = stream_meta(m, r_.stream_offset);
  Packet p;
  p.m = m;
  p.payload = rte_pktmbuf_mtod(m, uint8_t*);
  p.payload_len = rte_pktmbuf_data_len(m);
  // The UDP datagram to the peer starts here, with the hop limit the server gives what it sends.
  p.ttl = kDefaultTtl + 1;
  classify_listener(p);
  if (p.kind != Kind::channel_data && p.kind != Kind::send) {
    if (p.kind != Kind::drop) p.drop_as(CounterId::drop_not_stun);
    return drop(m, p.drop);
  }
  p.id = meta.allocation;
  if (p.id == kNoAllocation || slot_index(p.id) >= tables_.capacity()) return drop(m, CounterId::drop_stream_stale);
  const AllocationSlot& a = tables_.slot(p.id);
  // The expiry first: only the transport's id led here, not a lookup, so the slot may have been
  // removed (0) and be rewritten for another allocation right now; once published, its fields stay
  // put until this worker's next quiescent state. A removed allocation keeps its flags and stream
  // until the slot is reused: its connection's data is as stale as another connection's.
  if (a.expires.load(std::memory_order_acquire) == 0 ||
      !(a.flags.load(std::memory_order_acquire) & kStreamClient) || a.stream() != meta.stream)
    return drop(m, CounterId::drop_stream_stale);
  client_data(p, now);
}

}  // namespace tern::dp
