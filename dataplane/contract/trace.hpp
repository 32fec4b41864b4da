#pragma once
// Tracing one address: what the data plane decided for every packet from or to it, for
// `ternctl trace ADDR` ("ICE connected but nothing arrives": relayed which way, dropped and why,
// punted, waiting for a next hop).
//
//   Tracing& t = runtime->tracing();
//   t.set_trace(IpAddress::parse("10.90.0.10"));     // workers start recording
//   ... each wakeup: n = t.read_trace(records); for each: to_string(records[i]) ...
//   t.set_trace(std::nullopt);                        // off: one load and branch per burst again
//
// A packet matches when the address is its source, its destination, or where it is relayed to
// (the peer of a client's ChannelData or Send indication, the client of a peer's datagram, the
// other allocation's client of a hairpin). Each worker records into its own ring, at most
// kTraceRate records a second (a burst of kTraceBurst); what is over the rate or finds the ring
// full is counted (worker counter trace_suppressed, and trace_suppressed() here), never waited
// for. While a trace runs, workers process packet by packet (their scalar path) so every
// decision can be recorded; the relay keeps relaying.
//
// The control lcore adds its own decisions through the same interface: the data plane's
// (packets that waited for a next hop: sent, expired, overflowed) and the control plane's
// (append_trace(): e.g. a 403 to a CreatePermission for a denied peer).
//
// No DPDK type appears here: control/ includes this header without an EAL, and can fake Tracing.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "conf/net.hpp"
#include "dataplane/contract/counters.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::dp {

inline constexpr uint32_t kTraceRate = 1000;  // records per second per worker
inline constexpr uint32_t kTraceBurst = 100;
inline constexpr uint8_t kTraceControl = 0xff;  // TraceRecord::source of the control lcore

// What the packet was, as classification saw it.
enum class TracePacket : uint8_t {
  unclassified,  // dropped before it was understood (malformed, not ours, ...)
  channel_data,  // client -> peer ChannelData
  send,          // client -> peer Send indication
  peer_data,     // peer -> client datagram to a relayed address
  binding,       // STUN Binding request answered inline
  stun,          // another STUN message, for the control plane
  arp,
  ndp,           // IPv6 neighbour discovery
  icmp_echo,     // ICMP or ICMPv6
  datagram,      // a datagram of the control plane's own (ControlIo::send)
  tcp,           // TCP for a TCP or TLS listener, or an ICMP error about one of its connections
};

// What was decided.
enum class TraceOutcome : uint8_t {
  relayed,        // to the peer or the client (next)
  hairpin,        // to another allocation of this server, never on the wire
  answered,       // Binding, ARP or ICMP echo answered by the worker
  punted,         // to the control plane; reason: a PuntReason
  waiting,        // to the control lcore to wait for the next hop's MAC (ARP under way)
  dropped,        // reason: the CounterId that counted it
  sent_after_wait,  // control lcore: the next hop answered, the waiting packet left
  wait_expired,     // control lcore: nobody answered in time, dropped
  wait_overflow,    // control lcore: too many waiting, dropped
  control,        // the control plane's decision: stun_type answered with code (0: success)
  to_kernel,      // to the kernel's TCP behind the exception path
};

// One decision about one packet. Fixed size: it travels on the workers' rings.
struct TraceRecord {
  uint64_t time_ns = 0;      // since the data plane started
  TransportAddress from;     // the packet's source
  TransportAddress to;       // its destination (our listener or relayed address, ...)
  TransportAddress next;     // where it was relayed or answered to (control: the peer a request
                             // names); 0.0.0.0:0 when nowhere
  AllocId allocation = kNoAllocation;
  uint16_t channel = 0;      // ChannelData's channel, or the bound channel it left on; 0: none
  uint16_t reason = 0;       // dropped: CounterId; punted: PuntReason; control: STUN error code
  uint16_t stun_type = 0;    // control: the STUN message type decided on
  TracePacket packet = TracePacket::unclassified;
  TraceOutcome outcome = TraceOutcome::dropped;
  uint8_t source = 0;        // worker index, or kTraceControl
  uint8_t unused[3] = {};
};
static_assert(std::is_trivially_copyable_v<TraceRecord>);
inline bool has_next(const TraceRecord& r) { return r.next != TransportAddress{}; }
static_assert(sizeof(TraceRecord) % 4 == 0, "rte_ring_elem sizes are multiples of four");

std::string_view to_string(TracePacket packet);
std::string_view to_string(TraceOutcome outcome);
// The why of a record: a drop's counter name, a punt reason, a STUN code; empty when none.
std::string trace_reason(const TraceRecord& record);
// One line: "worker 0 channel_data 10.90.0.10:5000 -> 10.90.0.1:3478: relayed to
// 10.91.0.20:7000 (allocation 7, channel 0x4000)".
std::string to_string(const TraceRecord& record);

class Tracing {
 public:
  virtual ~Tracing() = default;
  // Traces `address` from now on (replacing any earlier one); nullopt stops tracing.
  virtual void set_trace(const std::optional<IpAddress>& address) = 0;
  virtual std::optional<IpAddress> trace_address() const = 0;
  // Takes up to out.size() records off the workers' rings and the control lcore's own, oldest
  // first within each source. Records of an address no longer traced are discarded.
  virtual size_t read_trace(std::span<TraceRecord> out) = 0;
  // The control plane's decision on a packet (source kTraceControl, outcome control); recorded
  // only while its from, to or next is the traced address. time_ns is filled in.
  virtual void append_trace(const TraceRecord& record) = 0;
  // Records not made (over the rate, ring full) since the data plane started, all sources.
  virtual uint64_t trace_suppressed() const = 0;
};

}  // namespace tern::dp
