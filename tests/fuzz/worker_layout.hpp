#pragma once
// The data plane fuzz_worker pushes frames through: its two ports, their addresses, listeners and
// neighbours, and the allocations published in its tables. The seed generator (worker_seeds.cpp)
// builds its frames from the same names, so every seed reaches the path it is named after.
//
//   port 0  02:00:00:00:00:01  10.90.0.1/24 (UDP listener :3478, TCP/TLS listeners :3478 and :443),
//           10.90.0.2/24 (relay), 2001:db8::1/64 (UDP listener :3478, TLS :443), 2001:db8::2/64 (relay)
//           gateway 10.90.0.254 (IPv4 only: IPv6 beyond the ports' subnets has no route, so the
//           drop_no_route path is reachable); clients 10.90.0.10 and 2001:db8::10 on-link.
//           Checksums computed by the worker.
//   port 1  02:00:00:00:01:01  192.0.2.1/24 (relay), 2001:db8:1::1/64 (relay); peers 192.0.2.50 and
//           2001:db8:1::50 on-link and known; 192.0.2.60 and 2001:db8:1::60 on-link, never resolved
//           (their packets wait on the hold ring). Checksums claimed offloaded to the port.

#include <cstdint>
#include <string_view>

#include "dataplane/contract/table_writer.hpp"

namespace tern::fuzz {

inline constexpr std::string_view kPort0Mac = "02:00:00:00:00:01";
inline constexpr std::string_view kPort1Mac = "02:00:00:00:01:01";
inline constexpr std::string_view kClientMac = "02:00:00:00:00:10";
inline constexpr std::string_view kGatewayMac = "02:00:00:00:00:fe";
inline constexpr std::string_view kPeerMac = "02:00:00:00:01:50";

inline constexpr std::string_view kListenerIp = "10.90.0.1";
inline constexpr std::string_view kRelayIp = "10.90.0.2";
inline constexpr std::string_view kRelayIp1 = "192.0.2.1";
inline constexpr std::string_view kGatewayIp = "10.90.0.254";
inline constexpr std::string_view kClientIp = "10.90.0.10";
inline constexpr std::string_view kRemoteClientIp = "198.51.100.20";  // behind the gateway
inline constexpr std::string_view kPeerIp = "192.0.2.50";             // on-link on port 1, known
inline constexpr std::string_view kUnresolvedPeerIp = "192.0.2.60";   // on-link on port 1, unknown
inline constexpr std::string_view kFarPeerIp = "203.0.113.9";         // behind the gateway

inline constexpr std::string_view kListenerIp6 = "2001:db8::1";
inline constexpr std::string_view kRelayIp6 = "2001:db8::2";       // port 0
inline constexpr std::string_view kRelayIp6b = "2001:db8:1::1";    // port 1
inline constexpr std::string_view kClientIp6 = "2001:db8::10";
inline constexpr std::string_view kPeerIp6 = "2001:db8:1::50";            // on-link, known
inline constexpr std::string_view kUnresolvedPeerIp6 = "2001:db8:1::60";  // on-link, unknown
inline constexpr std::string_view kFarPeerIp6 = "2001:db8:99::9";         // no route
inline constexpr std::string_view kRouterIp6 = "fe80::fe";                // sends ICMPv6 errors

inline constexpr uint16_t kListenerPort = 3478;
inline constexpr uint16_t kTlsPort = 443;
inline constexpr uint16_t kPeerPort = 7000;
inline constexpr uint16_t kFarPeerPort = 8000;

// UDP clients, one allocation each (AllocId, client port, relayed port):
//   kAlloc    10.90.0.10:5000  -> 10.90.0.2:50000   peers 192.0.2.50 (channel 0x4001 to :7000),
//             203.0.113.9, 192.0.2.60 (channel 0x4004 to :7000), 192.0.2.1 (channel 0x4002 to
//             192.0.2.1:50001: the hairpin to kAlloc2), channel 0x4003 expired
//   kAlloc2   198.51.100.20:6000 -> 192.0.2.1:50001 DONT-FRAGMENT; peers 10.90.0.2, 203.0.113.9
//   kAlloc6   [2001:db8::10]:5000 -> [2001:db8:1::1]:50010 peers 2001:db8:1::50 (channel 0x4001
//             to :7000), 2001:db8:99::9 (no route), 2001:db8:1::60, 2001:db8::2 (the hairpin to kAlloc6b)
//   kAlloc46  10.90.0.10:5001 -> [2001:db8:1::1]:50012  peer 2001:db8:1::50 (channel 0x4005 to :7002)
//   kAlloc64  [2001:db8::10]:5002 -> 192.0.2.1:50013    peer 192.0.2.50 (channel 0x4006 to :7003)
//   kAlloc6b  [2001:db8::10]:5003 -> [2001:db8::2]:50014 peer 2001:db8:1::1 (kAlloc6's relayed)
//   kAllocOld 10.90.0.10:5005 -> 10.90.0.2:50005   expired; peer 192.0.2.50 (channel 0x4001)
// TCP and TLS clients (their slots are not in the client index; their data comes on the
// from_stream ring):
//   kStream4  10.90.0.10:40000 -> 10.90.0.1:443, stream 5, relayed 10.90.0.2:50002; peer 192.0.2.50
//             (channel 0x4002 to :7000), 203.0.113.9
//   kStream6  [2001:db8::10]:40001 -> [2001:db8::1]:443, stream 6, relayed [2001:db8:1::1]:50016;
//             peer 2001:db8:1::50 (channel 0x4001 to :7000)
inline constexpr dp::AllocId kAlloc{7};
inline constexpr dp::AllocId kAlloc2{9};
inline constexpr dp::AllocId kAlloc6{11};
inline constexpr dp::AllocId kAlloc46{12};
inline constexpr dp::AllocId kAlloc64{13};
inline constexpr dp::AllocId kAlloc6b{14};
inline constexpr dp::AllocId kAllocOld{16};
inline constexpr dp::AllocId kStream4{20};
inline constexpr dp::AllocId kStream6{21};
inline constexpr dp::StreamId kStreamId4{5};
inline constexpr dp::StreamId kStreamId6{6};

inline constexpr uint16_t kClientPort = 5000;
inline constexpr uint16_t kClientPort46 = 5001;
inline constexpr uint16_t kClientPort64 = 5002;
inline constexpr uint16_t kClientPort6b = 5003;
inline constexpr uint16_t kClientPortOld = 5005;
inline constexpr uint16_t kRemoteClientPort = 6000;
inline constexpr uint16_t kRelayPort = 50000;
inline constexpr uint16_t kRelayPort2 = 50001;
inline constexpr uint16_t kStreamRelayPort4 = 50002;
inline constexpr uint16_t kRelayPortOld = 50005;
inline constexpr uint16_t kRelayPort6 = 50010;
inline constexpr uint16_t kRelayPort46 = 50012;
inline constexpr uint16_t kRelayPort64 = 50013;
inline constexpr uint16_t kRelayPort6b = 50014;
inline constexpr uint16_t kStreamRelayPort6 = 50016;

inline constexpr uint16_t kChannel = 0x4001;
inline constexpr uint16_t kHairpinChannel = 0x4002;
inline constexpr uint16_t kExpiredChannel = 0x4003;
inline constexpr uint16_t kUnresolvedChannel = 0x4004;
inline constexpr uint16_t kChannel46 = 0x4005;
inline constexpr uint16_t kChannel64 = 0x4006;

// The rates every allocation is held to (limits.max_bps, limits.allocation_pps). Their buckets
// hold a tenth of a second: 20 packets, 12,500 bytes, so one burst can exceed either. The
// fuzzer's clock moves a second between inputs, so every input starts with full buckets.
inline constexpr uint64_t kMaxBps = 1'000'000;
inline constexpr uint32_t kAllocationPps = 200;
inline constexpr uint64_t kTscHz = 1'000'000'000;

// The tables' clock while the fuzzer runs: every entry but the expired ones lives past it.
inline constexpr dp::TableTime kNow = 100;
inline constexpr dp::TableTime kExpires = 1'000'000;
inline constexpr dp::TableTime kExpired = 50;

}  // namespace tern::fuzz
