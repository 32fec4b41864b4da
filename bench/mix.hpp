#pragma once
// The relay harness's traffic: an addressing plan for N allocations, the frames of a realistic
// mix over it, written as a pcap file, and the table entries that make every frame relayable.
//
// Plan (one port, every destination behind one gateway, as on a relay behind its router):
//
//   port addresses   relayed addresses 10.90.2.0 .. 10.90.2.k/16 (k < 16: a port has at most 16);
//                    the listener is 10.90.2.0:3478, which no allocation is given
//   gateway          10.90.255.254, MAC 02:00:00:00:ff:fe (an ARP request from it opens the pcap)
//   allocation i     client 11.0.0.0 + i : 40000 -> listener 10.90.2.0:3478,
//                    relayed 10.90.2.(i / 64511) : the (i % 64511)-th port of 1024-65535 but 3478,
//                    channel 0x4000 bound to peer 192.0.2.50:7000,
//                    permission for 192.0.2.51 (a peer without a channel: Data indications)
//
// Mix: each frame picks an allocation uniformly at random; half the frames come from clients
// (ChannelData to the bound peer; `indication_percent / 2` percent of all frames are Send
// indications instead), half from peers (ChannelData back to the client from 192.0.2.50;
// `indication_percent / 2` percent from 192.0.2.51, which go out as Data indications). Every
// frame is `frame_len` bytes (Ethernet header to the end of the UDP payload, no FCS); a Send
// indication needs at least 82.

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/wire/headers.hpp"
#include "dataplane/setup/runtime.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::bench {

inline constexpr uint32_t kRelayPortsPerAddress = 64511;  // 1024-65535 but the listener's 3478
inline constexpr uint16_t kFirstRelayPort = 1024;
inline constexpr uint16_t kChannel = 0x4000;
// net_pcap's first port in a process: 02:70:63:61:70:00 ("pcap", port 0).
inline constexpr dp::MacWord kPcapPortMac = 0x007061637002ULL;
inline constexpr dp::MacWord kGatewayMac = 0xfeff00000002ULL;  // 02:00:00:00:ff:fe

struct MixConfig {
  uint32_t allocations = 100'000;
  uint32_t packets = 131'072;        // frames in the pcap; each is one allocation's
  uint16_t frame_len = 200;
  unsigned indication_percent = 4;   // Send + Data indications, in percent of all frames
  uint64_t seed = 1;
};

// How many frames of each kind a pcap holds.
struct MixCounts {
  uint64_t channel_data_to_peer = 0;
  uint64_t send_to_peer = 0;
  uint64_t channel_data_to_client = 0;
  uint64_t data_indication_to_client = 0;
  uint64_t arp = 0;
  uint64_t total() const {
    return channel_data_to_peer + send_to_peer + channel_data_to_client +
           data_indication_to_client + arp;
  }
};

unsigned relay_addresses_for(uint32_t allocations);

// Writes the mix as a pcap (microsecond timestamps, Ethernet). false with a message on failure.
bool write_pcap(const MixConfig& config, const std::string& path, MixCounts& counts,
                std::string& error);

// The data plane's configuration for the plan: one port from `device`, the listener, the
// relayed addresses, a table of exactly `allocations` slots.
dp::RuntimeConfig runtime_config(uint32_t allocations, const std::string& device,
                                 std::vector<std::string> eal, uint32_t mbufs);

// Publishes allocations 0 .. allocations-1 with their permissions and channel, valid until
// `expires`. false (with the failing id) if a write is refused.
bool publish(dp::TableWriter& writer, uint32_t allocations, dp::TableTime expires,
             std::string& error);

}  // namespace tern::bench
