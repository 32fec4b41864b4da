#pragma once
// The golden fixture with IPv6 (golden.hpp's layout, GoldenOptions::ipv6), its neighbours and
// allocations of every family pairing:
//
//   kAlloc6   client [2001:db8::10]:5000  relayed [2001:db8:1::1]:50010  peers 2001:db8:1::50
//             (channel 0x4001 to :7000) and 2001:db8:99::9 (behind the link-local gateway)
//   kAlloc46  client 10.90.0.10:5001      relayed [2001:db8:1::1]:50012  peer 2001:db8:1::50
//   kAlloc64  client [2001:db8::10]:5002  relayed 192.0.2.1:50013        peer 192.0.2.50
//   kAlloc6b  client [2001:db8::10]:5003  relayed [2001:db8::2]:50014    (hairpin partner)

#include "tests/packets/golden.hpp"

namespace tern::test {

inline constexpr std::string_view kClientIp6 = "2001:db8::10";
inline constexpr std::string_view kListenerIp6 = "2001:db8::1";
inline constexpr std::string_view kRelayIp6 = "2001:db8::2";     // port 0
inline constexpr std::string_view kRelayIp6b = "2001:db8:1::1";  // port 1
inline constexpr std::string_view kPeerIp6 = "2001:db8:1::50";   // on-link on port 1
inline constexpr std::string_view kFarPeerIp6 = "2001:db8:99::9";
inline constexpr std::string_view kGatewayIp6 = "fe80::fe";

inline constexpr dp::AllocId kAlloc6{11};
inline constexpr dp::AllocId kAlloc46{12};
inline constexpr dp::AllocId kAlloc64{13};
inline constexpr dp::AllocId kAlloc6b{14};
inline constexpr uint16_t kRelayPort6 = 50010;

inline dp::AllocationEntry entry(std::string_view client, std::string_view server,
                                 std::string_view relayed) {
  dp::AllocationEntry e;
  e.five_tuple = {*TransportAddress::parse(client), *TransportAddress::parse(server), dp::Transport::udp};
  e.relayed = *TransportAddress::parse(relayed);
  e.expires = kExpires;
  return e;
}

class Golden6 : public Golden {
 protected:
  void SetUp() override { build6(GoldenOptions{}); }

  void build6(GoldenOptions options) {
    options.ipv6 = true;
    build(options);
    neighbours_->learn(0, ip6(kClientIp6), kClientMac.word(), kNow);
    neighbours_->learn(0, ip6(kGatewayIp6), kGatewayMac.word(), kNow);
    neighbours_->learn(1, ip6(kPeerIp6), kPeerMac.word(), kNow);
    dp::TableWriter& w = writer();
    ASSERT_EQ(w.add_allocation(kAlloc6, entry("[2001:db8::10]:5000", "[2001:db8::1]:3478", "[2001:db8:1::1]:50010")),
              dp::WriteResult::ok);
    ASSERT_EQ(w.set_permission(kAlloc6, *IpAddress::parse(kPeerIp6), kExpires), dp::WriteResult::ok);
    ASSERT_EQ(w.set_permission(kAlloc6, *IpAddress::parse(kFarPeerIp6), kExpires), dp::WriteResult::ok);
    ASSERT_EQ(w.set_channel(kAlloc6, kChannel, *TransportAddress::parse("[2001:db8:1::50]:7000"), kExpires),
              dp::WriteResult::ok);
    ASSERT_EQ(w.add_allocation(kAlloc46, entry("10.90.0.10:5001", "10.90.0.1:3478", "[2001:db8:1::1]:50012")),
              dp::WriteResult::ok);
    ASSERT_EQ(w.set_permission(kAlloc46, *IpAddress::parse(kPeerIp6), kExpires), dp::WriteResult::ok);
    ASSERT_EQ(w.add_allocation(kAlloc64, entry("[2001:db8::10]:5002", "[2001:db8::1]:3478", "192.0.2.1:50013")),
              dp::WriteResult::ok);
    ASSERT_EQ(w.set_permission(kAlloc64, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
    ASSERT_EQ(w.add_allocation(kAlloc6b, entry("[2001:db8::10]:5003", "[2001:db8::1]:3478", "[2001:db8::2]:50014")),
              dp::WriteResult::ok);
  }

  static dp::Ip6 ip6(std::string_view text) { return dp::Ip6::of(*IpAddress::parse(text)); }

  // Frames as the network delivers them.
  PacketBuilder from_client6(const Bytes& payload, uint16_t client_port = kClientPort) const {
    PacketBuilder b;
    b.ether(kClientMac, kPort0Mac).ipv6(kClientIp6, kListenerIp6).udp(client_port, kListenerPort).payload(payload);
    return b;
  }
  PacketBuilder from_peer6(const Bytes& payload, uint16_t relay_port = kRelayPort6) const {
    PacketBuilder b;
    b.ether(kPeerMac, kPort1Mac).ipv6(kPeerIp6, kRelayIp6b).udp(kPeerPort, relay_port).payload(payload);
    return b;
  }
  // What the worker sends.
  PacketBuilder to_peer6(const Bytes& data, uint16_t relay_port = kRelayPort6) const {
    PacketBuilder b;
    b.ether(kPort1Mac, kPeerMac).ipv6(kRelayIp6b, kPeerIp6).ttl(63).udp(relay_port, kPeerPort).payload(data);
    return b;
  }
  PacketBuilder to_client6(const Bytes& payload, uint16_t client_port = kClientPort) const {
    PacketBuilder b;
    b.ether(kPort0Mac, kClientMac).ipv6(kListenerIp6, kClientIp6).ttl(63).udp(kListenerPort, client_port).payload(payload);
    return b;
  }
};

}  // namespace tern::test
