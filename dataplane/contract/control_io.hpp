#pragma once
// The control plane's side of the data plane's packet I/O: the STUN messages the workers punt
// (everything the fast paths do not answer themselves), replies to them, datagrams of the control
// plane's own, and the neighbour upkeep that only the control lcore may do.
//
// The control plane is single-threaded and never spins: it calls receive() after each epoll_wait
// (about every millisecond) and answers what it got. Every punted message is held in a packet
// buffer until release(); the payload span stays valid until then. Replies leave on the control
// lcore's own TX queue of the port, never on a worker's.
//
// No DPDK type appears here: control/ includes this header without an EAL, and its tests can
// fake it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "conf/net.hpp"
#include "dataplane/contract/counter_list.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::dp {

// Why a worker handed a packet to the control plane.
enum class PuntReason : uint8_t {
  stun_request,           // a STUN request other than a plain Binding: Allocate, Refresh,
                          // CreatePermission, ChannelBind, ... (RFC 8656)
  binding_authenticated,  // a Binding request with USERNAME, USERHASH or MESSAGE-INTEGRITY(-SHA256)
  binding_attributes,     // a Binding request with another comprehension-required attribute
                          // (the control plane answers 420 or handles it, RFC 8489 §7.3.1)
  stun_indication,        // an indication other than Send
  stun_response,          // a success or error response arriving from a client
  arp,                    // ARP with something to learn; handled inside the data plane's control side
  ndp,                    // IPv6 neighbour discovery with something to learn or answer; likewise
};
inline constexpr size_t kPuntReasonCount = 7;
std::string_view to_string(PuntReason reason);

using PuntHandle = uint64_t;  // opaque; returned to release()

struct PuntedMessage {
  FiveTuple five_tuple;              // the client's transport address, our listener's, UDP
  std::span<const uint8_t> message;  // the UDP payload (a STUN message), valid until release()
  PuntReason reason = PuntReason::stun_request;
  uint16_t port = 0;                 // DPDK port it arrived on
  uint16_t worker = 0;               // the worker that punted it
  PuntHandle handle = 0;
};

enum class SendResult : uint8_t {
  sent,
  not_local,     // `from` is not one of our addresses
  unsupported,   // from and to of different families, or an IPv4-mapped IPv6 address
  no_route,      // destination neither on-link nor behind a gateway
  no_neighbour,  // next hop's MAC unknown and no room to wait for it (resolution has started)
  too_big,       // does not fit in one packet buffer
  no_buffer,     // packet pool empty
  tx_full,       // the port's control TX queue did not take it
};
std::string_view to_string(SendResult result);

// X(name, help): the control lcore's own I/O counters.
#define TERN_CONTROL_IO_COUNTERS(X)                                                              \
  X(punts_received, "punted STUN messages handed to the control plane")                        \
  X(replies_sent, "replies sent to clients on the control TX queues")                          \
  X(datagrams_sent, "datagrams of the control plane's own sent")                               \
  X(arp_learned, "neighbours learnt from ARP")                                                 \
  X(arp_changed, "neighbours whose MAC address changed")                                       \
  X(arp_answered, "ARP requests for our addresses answered by the control lcore")              \
  X(arp_requests_sent, "ARP requests sent (resolution and refresh)")                           \
  X(arp_requests_limited, "ARP requests and neighbour solicitations not sent: the rate limit")  \
  X(ndp_learned, "IPv6 neighbours learnt from neighbour discovery")                            \
  X(ndp_changed, "IPv6 neighbours whose MAC address changed")                                  \
  X(ndp_answered, "neighbour solicitations for our addresses answered by the control lcore")   \
  X(ndp_solicitations_sent, "neighbour solicitations sent (resolution and refresh)")           \
  X(neighbours_forgotten, "neighbours forgotten after failing to answer a refresh")            \
  X(neighbour_table_full, "neighbours not learnt because the port's table was full")           \
  X(resolutions_primed, "next hops resolved ahead of traffic when a permission was installed") \
  X(held, "packets that waited for their next hop's MAC address (from workers and send())")    \
  X(held_sent, "waiting packets sent once their next hop was resolved")                        \
  X(held_expired, "waiting packets dropped after waiting kHoldTime for their next hop")         \
  X(held_overflow, "waiting packets dropped because the neighbour's or the overall queue was full") \
  X(send_no_route, "replies or datagrams without a route")                                     \
  X(mempool_empty, "packet buffers the pool could not supply")                                 \
  X(tx_full, "packets a control TX queue did not take")

TERN_COUNTER_LIST(TERN_CONTROL_IO_COUNTERS, ControlCounterId, kControlCounterCount, kControlCounterNames,
                  kControlCounterHelp);
using ControlCounterValues = std::array<uint64_t, kControlCounterCount>;

class ControlIo {
 public:
  virtual ~ControlIo() = default;

  // The data plane's clock (table_writer.hpp): the time every expiry is written in.
  virtual TableTime now() const = 0;

  // Takes up to out.size() punted STUN messages off the workers' queues, and does the neighbour
  // work that is due on the way (learning from punted ARP, answering ARP the workers left to it,
  // resolving next hops the workers asked for, refreshing and expiring neighbours, at a bounded
  // rate). Never blocks. Each message returned must be given back with release().
  virtual size_t receive(std::span<PuntedMessage> out) = 0;

  // Sends payload as one UDP datagram from the message's listener address:port to its client,
  // towards the MAC address the message came from, out of the port it arrived on.
  virtual SendResult reply(const PuntedMessage& to, std::span<const uint8_t> payload) = 0;

  // Sends payload as one UDP datagram from one of our addresses to any destination, routed like
  // relayed traffic. Like relayed traffic it waits (briefly, bounded) for a next hop that is
  // being resolved: `sent` then means handed to that wait.
  virtual SendResult send(const TransportAddress& from, const TransportAddress& to,
                          std::span<const uint8_t> payload) = 0;

  // Frees a punted message's packet buffer.
  virtual void release(PuntHandle handle) = 0;

  virtual ControlCounterValues counters() const = 0;
};

}  // namespace tern::dp
