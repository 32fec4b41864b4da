#pragma once
// One packet of a burst as classification left it, and the address families the worker's code is
// written once for. Internal to the worker's stages (worker/*.cpp).

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/contract/control_io.hpp"
#include "dataplane/contract/counters.hpp"
#include "dataplane/tables/tables.hpp"
#include "dataplane/wire/headers.hpp"
#include "dataplane/wire/ip6.hpp"
#include "dataplane/wire/stun.hpp"

namespace tern::dp {

enum class Kind : uint8_t {
  drop,          // `drop` says why
  arp,           // ARP on the port
  ndp,           // IPv6 neighbour solicitation or advertisement (RFC 4861)
  icmp_echo,     // ICMP (ICMPv6 when ipv6) echo request to one of our addresses
  binding,       // STUN Binding request to answer inline
  punt,          // for the control plane, `punt` says why
  channel_data,  // client -> peer ChannelData (RFC 8656 §12.6)
  send,          // client -> peer Send indication (RFC 8656 §11.2)
  peer,          // peer -> client data on a relayed address (RFC 8656 §11.3, §12.7)
  to_kernel,     // TCP to a TCP or TLS listener, or an ICMP error about such a connection: the
                 // kernel's TCP behind the exception path serves it
};

constexpr bool from_client(Kind k) { return k == Kind::channel_data || k == Kind::send; }

struct Packet {
  rte_mbuf* m = nullptr;
  Kind kind = Kind::drop;
  CounterId drop = CounterId::drop_malformed;
  PuntReason punt = PuntReason::stun_request;
  unsigned port = 0;            // Interfaces index it arrived on
  uint8_t tos = 0;              // DSCP + ECN, copied across (RFC 8656 §14)
  uint8_t ttl = 0;
  bool df = false;              // DF bit of the packet as received
  bool dont_fragment = false;   // Send indication carried DONT-FRAGMENT
  bool fingerprint = false;     // Binding request carried FINGERPRINT
  bool ipv6 = false;            // the packet came as IPv6: its addresses are src6, dst6
  bool peer_ipv6 = false;       // send: XOR-PEER-ADDRESS is IPv6 (peer6)
  uint8_t relay_index = 0;      // peer: which relay address
  uint16_t src_port = 0;        // network order, like every address below
  uint16_t dst_port = 0;
  uint32_t src_ip = 0;
  uint32_t dst_ip = 0;
  uint16_t udp_checksum = 0;    // as received; 0 = the sender computed none
  uint16_t payload_len = 0;     // UDP payload (ICMP message for icmp_echo)
  uint8_t* payload = nullptr;
  // The application data inside the payload: ChannelData after its header, Send's DATA value,
  // all of a peer's datagram.
  uint16_t data_off = 0;
  uint16_t data_len = 0;
  uint16_t channel = 0;         // channel_data
  uint16_t peer_port = 0;       // send: XOR-PEER-ADDRESS, decoded
  uint32_t peer_ip = 0;
  AllocId id = kNoAllocation;
  ClientKey key;                // channel_data, send over IPv4
  // IPv6 only, set before use (not zeroed for every packet).
  Ip6 src6;
  Ip6 dst6;
  Ip6 peer6;
  ClientKey6 key6;              // channel_data, send over IPv6

  uint8_t* data() const { return payload + data_off; }
  void drop_as(CounterId reason) {
    kind = Kind::drop;
    drop = reason;
  }
  void punt_as(PuntReason reason) {
    kind = Kind::punt;
    punt = reason;
  }
};

// The address families, for code written once for both (specialised by template, not a
// branch per packet). A relayed packet's input and output families are template parameters; the
// one branch that picks the instance is on the allocation's flags, already in cache.
struct V4 {
  using Address = uint32_t;  // network order
  static constexpr bool kIpv6 = false;
  static constexpr uint16_t kUdpHeaders = kUdpHeadersLen;
  static constexpr uint16_t kXorAddressAttribute = stun_wire::kXorAddressAttributeLen;
};
struct V6 {
  using Address = Ip6;
  static constexpr bool kIpv6 = true;
  static constexpr uint16_t kUdpHeaders = kUdp6HeadersLen;
  static constexpr uint16_t kXorAddressAttribute = stun_wire::kXorAddress6AttributeLen;
};

// The headers finish_udp() writes, in a family's addresses (network order throughout).
template <class F>
struct UdpHeaders {
  typename F::Address src;
  typename F::Address dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t tos = 0;           // IPv6: traffic class
  uint8_t ttl = kDefaultTtl;  // IPv6: hop limit
  bool df = false;           // IPv4 only
};

}  // namespace tern::dp
