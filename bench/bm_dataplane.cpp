// The worker's burst processing, per fast path, in ns per packet, and the table lookups, at
// 1k / 100k / 1M allocations. No NIC: synthetic 200-byte frames (ChannelData and peer data; the
// Binding request is its natural 62 bytes) in mbufs from a real pool, transmitted to a net_null
// port, which frees them like a NIC's TX completion. Every burst touches allocations drawn at
// random from the whole table; each path cycles through 4096 such frames, so a run touches at
// most 4096 allocations: spread over the large tables (bucket and slot addresses, TLB), but a
// set whose state fits in L3. tern-bench (bench/relay_harness.cpp) measures the worker with the
// touched state out of cache.
//
// Hairpin: client ChannelData on channel 0x4001, bound to the relayed address of the allocation's
// partner (2k <-> 2k+1), which the worker hands to the partner's peer -> client path.
//
// The *6 benchmarks run the same paths with IPv6 clients, relayed addresses and peers, whose
// permissions and channels are hash lookups rather than inline words (tables.hpp).
//
// BM_IoOnly is the harness alone (allocate 32 mbufs, copy the frames in, transmit, free): subtract
// it from the paths' figures for the worker's own cost.
//
//   bm_dataplane            EAL without hugepages (--no-huge): 2.5-4x slower, TLB-bound
//   bm_dataplane --huge     EAL on hugepages (--in-memory); reserve them first:
//                           echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

#include <benchmark/benchmark.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/setup/assembly.hpp"
#include "dataplane/wire/checksum.hpp"
#include "dataplane/wire/headers.hpp"
#include "dataplane/wire/stun.hpp"

namespace tern::dp {
namespace {

using Frame = std::vector<uint8_t>;
constexpr unsigned kTemplates = 4096;  // distinct frames per path, random allocations
constexpr unsigned kRelayPortsPerAddress = 64000;
constexpr uint16_t kFrameLen = 200;
constexpr TableTime kNow = 100;

uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return rte_cpu_to_be_32((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
}
const uint32_t kListenerIp = ip(10, 90, 1, 0);
const uint16_t kListenerPort = be16(3478);
const uint32_t kGatewayIp = ip(10, 90, 255, 254);
const uint32_t kPeerIp = ip(192, 0, 2, 50);     // bound to channel 0x4000
const uint32_t kOtherPeerIp = ip(192, 0, 2, 51);  // permitted, no channel
const uint16_t kPeerPort = be16(7000);
constexpr MacWord kOurMac = 0x010000000002ULL;
constexpr MacWord kGatewayMac = 0xfe0000000002ULL;

uint32_t client_ip(uint32_t id) { return rte_cpu_to_be_32(0x0b000000u + id); }
const uint16_t kClientPort = be16(40000);
uint32_t relay_ip(uint32_t id) { return ip(10, 90, 1, static_cast<uint8_t>(id / kRelayPortsPerAddress)); }
// Ports 1024.. on each relay address, the listener's 3478 skipped (10.90.1.0 is both).
uint16_t relay_port(uint32_t id) {
  const uint32_t port = 1024 + id % kRelayPortsPerAddress;
  return rte_cpu_to_be_16(static_cast<uint16_t>(port >= 3478 ? port + 1 : port));
}
// Hairpin pairs: allocations 2k and 2k+1 (on the same relay address) are each other's peer, bound
// to channel 0x4001.
uint32_t partner(uint32_t id) { return id ^ 1u; }
constexpr uint16_t kHairpinChannel = 0x4001;

Frame udp_frame(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const Frame& payload) {
  Frame f(kUdpHeadersLen + payload.size());
  if (f.data() == nullptr) return f;  // never: the headers alone are 42 bytes (for GCC's -O3 bounds checks)
  write_ether(f.data(), kOurMac, kGatewayMac, kEtherTypeIpv4);
  Ipv4Fields fields;
  fields.src = src;
  fields.dst = dst;
  fields.total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kIpv4Len + kUdpLen + payload.size()));
  auto* iph = ipv4(f.data());
  write_ipv4(iph, fields);
  iph->hdr_checksum = rte_ipv4_cksum(iph);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(f.data() + kEtherLen + kIpv4Len);
  write_udp(udp, sport, dport, rte_cpu_to_be_16(static_cast<uint16_t>(kUdpLen + payload.size())));
  std::memcpy(f.data() + kUdpHeadersLen, payload.data(), payload.size());
  udp->dgram_cksum = rte_ipv4_udptcp_cksum(iph, udp);
  return f;
}

Frame stun_message(uint16_t type, uint16_t attributes_len) {
  Frame m(stun_wire::kHeaderLen + attributes_len);
  stun_wire::store16(m.data(), type);
  stun_wire::store16(m.data() + 2, attributes_len);
  stun_wire::store32_raw(m.data() + 4, stun_wire::kMagicCookieBe);
  for (int i = 0; i < 12; ++i) m[8 + i] = static_cast<uint8_t>(i * 7);
  return m;
}

enum class Path { channel_data_to_peer, send_to_peer, peer_channel_data, peer_data_indication, binding, hairpin };

Frame make_frame(Path path, uint32_t id) {
  switch (path) {
    case Path::channel_data_to_peer: {
      const uint16_t len = kFrameLen - kUdpHeadersLen - 4;
      Frame cd(4 + len, 0x5a);
      stun_wire::store16(cd.data(), 0x4000);
      stun_wire::store16(cd.data() + 2, len);
      return udp_frame(client_ip(id), kClientPort, kListenerIp, kListenerPort, cd);
    }
    case Path::send_to_peer: {
      const uint16_t len = kFrameLen - kUdpHeadersLen - stun_wire::kHeaderLen - 12 - 4;
      Frame m = stun_message(stun_wire::kSendIndication, static_cast<uint16_t>(12 + 4 + stun_wire::padded(len)));
      stun_wire::write_xor_address(m.data() + 20, stun::AttributeType::xor_peer_address, kPeerIp, kPeerPort);
      stun_wire::store16(m.data() + 32, stun::AttributeType::data);
      stun_wire::store16(m.data() + 34, len);
      std::memset(m.data() + 36, 0x5a, len);
      return udp_frame(client_ip(id), kClientPort, kListenerIp, kListenerPort, m);
    }
    case Path::peer_channel_data:
      return udp_frame(kPeerIp, kPeerPort, relay_ip(id), relay_port(id), Frame(kFrameLen - kUdpHeadersLen, 0x5a));
    case Path::peer_data_indication:
      return udp_frame(kOtherPeerIp, kPeerPort, relay_ip(id), relay_port(id), Frame(kFrameLen - kUdpHeadersLen, 0x5a));
    case Path::binding:
      return udp_frame(client_ip(id), kClientPort, kListenerIp, kListenerPort, stun_message(stun_wire::kBindingRequest, 0));
    case Path::hairpin: {
      const uint16_t len = kFrameLen - kUdpHeadersLen - 4;
      Frame cd(4 + len, 0x5a);
      stun_wire::store16(cd.data(), kHairpinChannel);
      stun_wire::store16(cd.data() + 2, len);
      return udp_frame(client_ip(id), kClientPort, kListenerIp, kListenerPort, cd);
    }
  }
  return {};
}

const Ip6 kGatewayIp6 = Ip6::of(*IpAddress::parse("fe80::fe"));

struct Env {
  rte_mempool* pool = nullptr;
  uint16_t port = 0;
  InterfacesConfig ipv4;  // the port with the IPv4 listener and relayed addresses
  InterfacesConfig ipv6;  // and with the IPv6 ones
  Clock clock;
};
std::optional<Env> env;

// One allocation table of a given size, fully published, with its own worker: a data plane built
// as ternd builds its own (Assembly), over the net_null port, polled by hand.
struct World {
  std::unique_ptr<Assembly> dp;
  Worker* worker = nullptr;
  std::mt19937 rng{7};
};

std::unique_ptr<World> build_world(const std::string& name, const InterfacesConfig& interfaces,
                                   uint32_t allocations, std::vector<IpAddress> relay_addresses,
                                   uint32_t permission_overflow = 0, uint32_t channel_overflow = 0,
                                   bool streams = false) {
  AssemblyConfig ac;
  ac.name = name;
  ac.interfaces = interfaces;
  ac.pools = {env->pool};
  ac.rx_queues = {1};
  ac.rcu = false;
  ac.table_size = allocations;
  ac.streams = streams;
  ac.relay_addresses = std::move(relay_addresses);
  ac.permission_overflow = permission_overflow;
  ac.channel_overflow = channel_overflow;
  ac.neighbours_per_port = 64;
  // As ternd runs by default: every relayed packet takes its allocation's packet bucket
  // (allocation_pps), here at a rate no allocation reaches, so each is relayed.
  ac.settings.allocation_pps = conf::kMaxAllocationPps;
  std::string error;
  auto w = std::make_unique<World>();
  w->dp = Assembly::build(ac, env->clock, error);
  if (!w->dp) {
    fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  w->dp->neighbours().learn(0, kGatewayIp, kGatewayMac, kNow);
  w->dp->neighbours().learn(0, kGatewayIp6, kGatewayMac, kNow);
  w->worker = &w->dp->worker(0);
  return w;
}

// With `streams`, TCP and TLS listeners too, and the last kStreamClients slots are TCP and TLS
// clients' allocations (out of the client index, each with a channel): what the UDP paths run beside
// in a ternd that serves both.
constexpr uint32_t kStreamClients = 1000;

World& world(uint32_t allocations, bool streams = false) {
  static std::map<std::pair<uint32_t, bool>, std::unique_ptr<World>> worlds;
  auto& w = worlds[{allocations, streams}];
  if (w) return *w;
  std::vector<IpAddress> relays;
  for (uint8_t i = 0; i < 16; ++i) relays.push_back(IpAddress::v4(10, 90, 1, i));
  InterfacesConfig interfaces = env->ipv4;
  if (streams) {
    const IpAddress listener = IpAddress::v4(rte_be_to_cpu_32(kListenerIp));
    interfaces.stream_listeners = {{listener, Port{3478}}, {listener, Port{443}}};
  }
  const uint32_t slots = allocations + (streams ? kStreamClients : 0);
  w = build_world("bm" + std::to_string(allocations) + (streams ? "s" : ""), interfaces, slots, relays, 0, 0, streams);
  TableWriter& writer = w->dp->table_writer();
  for (uint32_t id = allocations; id < slots; ++id) {
    AllocationEntry e;
    e.five_tuple.client = {IpAddress::v4(rte_be_to_cpu_32(client_ip(id))), Port{40000}};
    e.five_tuple.server = {IpAddress::v4(rte_be_to_cpu_32(kListenerIp)), Port{443}};
    e.five_tuple.transport = Transport::tcp;
    e.stream = StreamId{id + 1};
    e.relayed = {IpAddress::v4(rte_be_to_cpu_32(relay_ip(id))), Port{rte_be_to_cpu_16(relay_port(id))}};
    e.expires = 1'000'000;
    if (writer.add_allocation(AllocId{id}, e) != WriteResult::ok ||
        writer.set_channel(AllocId{id}, 0x4000, {IpAddress::v4(rte_be_to_cpu_32(kPeerIp)), Port{7000}}, 1'000'000) !=
            WriteResult::ok) {
      fprintf(stderr, "cannot publish stream allocation %u\n", id);
      std::exit(1);
    }
  }
  for (uint32_t id = 0; id < allocations; ++id) {
    AllocationEntry e;
    e.five_tuple.client = {IpAddress::v4(rte_be_to_cpu_32(client_ip(id))), Port{40000}};
    e.five_tuple.server = {IpAddress::v4(rte_be_to_cpu_32(kListenerIp)), Port{3478}};
    e.relayed = {IpAddress::v4(rte_be_to_cpu_32(relay_ip(id))), Port{rte_be_to_cpu_16(relay_port(id))}};
    e.expires = 1'000'000;
    if (writer.add_allocation(AllocId{id}, e) != WriteResult::ok ||
        writer.set_permission(AllocId{id}, IpAddress::v4(rte_be_to_cpu_32(kPeerIp)), 1'000'000) != WriteResult::ok ||
        writer.set_permission(AllocId{id}, IpAddress::v4(rte_be_to_cpu_32(kOtherPeerIp)), 1'000'000) != WriteResult::ok ||
        writer.set_channel(AllocId{id}, 0x4000, {IpAddress::v4(rte_be_to_cpu_32(kPeerIp)), Port{7000}}, 1'000'000) !=
            WriteResult::ok ||
        writer.set_permission(AllocId{id}, IpAddress::v4(rte_be_to_cpu_32(relay_ip(partner(id)))), 1'000'000) !=
            WriteResult::ok ||
        writer.set_channel(AllocId{id}, kHairpinChannel,
                           {IpAddress::v4(rte_be_to_cpu_32(relay_ip(partner(id)))),
                            Port{rte_be_to_cpu_16(relay_port(partner(id)))}},
                           1'000'000) != WriteResult::ok) {
      fprintf(stderr, "cannot publish allocation %u\n", id);
      std::exit(1);
    }
  }
  return *w;
}

std::vector<Frame> frames(World& w, Path path, uint32_t allocations) {
  std::vector<Frame> out;
  std::uniform_int_distribution<uint32_t> pick(0, allocations - 1);
  for (unsigned i = 0; i < kTemplates; ++i) out.push_back(make_frame(path, pick(w.rng)));
  return out;
}

// Allocates a burst and copies frames in, as an RX queue would hand them over.
bool receive(rte_mbuf** pkts, const std::vector<Frame>& templates, unsigned& cursor) {
  if (rte_pktmbuf_alloc_bulk(env->pool, pkts, kBurst) != 0) return false;
  for (unsigned i = 0; i < kBurst; ++i) {
    const Frame& f = templates[(cursor + i) & (kTemplates - 1)];
    std::memcpy(rte_pktmbuf_mtod(pkts[i], uint8_t*), f.data(), f.size());
    pkts[i]->data_len = static_cast<uint16_t>(f.size());
    pkts[i]->pkt_len = f.size();
  }
  cursor += kBurst;
  return true;
}

void per_packet(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kBurst);
  state.counters["ns/pkt"] = benchmark::Counter(static_cast<double>(kBurst),
                                                benchmark::Counter::kIsIterationInvariantRate |
                                                    benchmark::Counter::kInvert);
}

void run_frames(benchmark::State& state, World& w, const std::vector<Frame>& templates,
                CounterId expect, Worker::Mode mode) {
  const Instant now{kNow, rte_rdtsc()};
  const uint64_t before = w.worker->counters()[expect].value();
  rte_mbuf* pkts[kBurst];
  unsigned cursor = 0;
  for (auto _ : state) {
    if (!receive(pkts, templates, cursor)) {
      state.SkipWithError("mempool empty");
      break;
    }
    w.worker->process(0, pkts, kBurst, now, mode);
    w.worker->flush();
  }
  if (w.worker->counters()[expect].value() - before != static_cast<uint64_t>(state.iterations()) * kBurst)
    state.SkipWithError("not every packet took the path measured");
  per_packet(state);
}

void run_path(benchmark::State& state, Path path, CounterId expect, Worker::Mode mode, bool streams = false) {
  const auto allocations = static_cast<uint32_t>(state.range(0));
  World& w = world(allocations, streams);
  run_frames(state, w, frames(w, path, allocations), expect, mode);
}

void BM_ChannelDataToPeer(benchmark::State& s) {
  run_path(s, Path::channel_data_to_peer, CounterId::channel_data_to_peer, Worker::Mode::bulk);
}
void BM_ChannelDataToPeerScalar(benchmark::State& s) {
  run_path(s, Path::channel_data_to_peer, CounterId::channel_data_to_peer, Worker::Mode::scalar);
}
void BM_SendToPeer(benchmark::State& s) {
  run_path(s, Path::send_to_peer, CounterId::send_to_peer, Worker::Mode::bulk);
}
void BM_PeerToClientChannelData(benchmark::State& s) {
  run_path(s, Path::peer_channel_data, CounterId::channel_data_to_client, Worker::Mode::bulk);
}
void BM_PeerToClientChannelDataScalar(benchmark::State& s) {
  run_path(s, Path::peer_channel_data, CounterId::channel_data_to_client, Worker::Mode::scalar);
}
void BM_PeerToClientDataIndication(benchmark::State& s) {
  run_path(s, Path::peer_data_indication, CounterId::data_indication_to_client, Worker::Mode::bulk);
}
void BM_Binding(benchmark::State& s) {
  run_path(s, Path::binding, CounterId::binding_answered, Worker::Mode::bulk);
}
// The UDP fast paths in a data plane that also serves TCP and TLS clients (kStreamClients of them).
void BM_ChannelDataToPeerWithStreams(benchmark::State& s) {
  run_path(s, Path::channel_data_to_peer, CounterId::channel_data_to_peer, Worker::Mode::bulk, true);
}
void BM_PeerToClientChannelDataWithStreams(benchmark::State& s) {
  run_path(s, Path::peer_channel_data, CounterId::channel_data_to_client, Worker::Mode::bulk, true);
}
// Client ChannelData to another allocation's relayed address on this server: never on the wire,
// handed to the partner's peer -> client path and sent to the partner's client as ChannelData.
void BM_Hairpin(benchmark::State& s) {
  run_path(s, Path::hairpin, CounterId::hairpin, Worker::Mode::bulk);
}

// ---- IPv6: the same paths with both sides IPv6 (permissions and channels in the IPv6 hashes) ----

Ip6 ip6_of(const char* prefix, uint32_t host) {
  Ip6 a = Ip6::of(*IpAddress::parse(prefix));
  uint8_t b[16];
  a.store(b);
  for (int i = 0; i < 4; ++i) b[15 - i] = static_cast<uint8_t>(host >> (8 * i));
  return Ip6::load(b);
}
Ip6 client_ip6(uint32_t id) { return ip6_of("2001:db8:2::", id); }
Ip6 relay_ip6(uint32_t id) { return ip6_of("2001:db8:1::", 0x100 + id / kRelayPortsPerAddress); }
const Ip6 kListenerIp6 = relay_ip6(0);  // listener and relay address, like 10.90.1.0
const Ip6 kPeerIp6 = ip6_of("2001:db8:3::", 0x50);       // bound to channel 0x4000
const Ip6 kOtherPeerIp6 = ip6_of("2001:db8:3::", 0x51);  // permitted, no channel

Frame udp6_frame(const Ip6& src, uint16_t sport, const Ip6& dst, uint16_t dport, const Frame& payload) {
  Frame f(kUdp6HeadersLen + payload.size());
  if (f.data() == nullptr) return f;  // never: the headers alone are 62 bytes (for GCC's -O3 bounds checks)
  write_ether(f.data(), kOurMac, kGatewayMac, kEtherTypeIpv6);
  Ipv6Fields fields;
  fields.src = reinterpret_cast<const uint8_t*>(src.w);
  fields.dst = reinterpret_cast<const uint8_t*>(dst.w);
  fields.payload_length = rte_cpu_to_be_16(static_cast<uint16_t>(kUdpLen + payload.size()));
  auto* iph = ipv6(f.data());
  write_ipv6(iph, fields);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(f.data() + kEtherLen + kIpv6Len);
  write_udp(udp, sport, dport, fields.payload_length);
  std::memcpy(f.data() + kUdp6HeadersLen, payload.data(), payload.size());
  udp->dgram_cksum = rte_ipv6_udptcp_cksum(iph, udp);
  return f;
}

Frame make_frame6(Path path, uint32_t id, const uint8_t* transaction_id) {
  switch (path) {
    case Path::channel_data_to_peer: {
      const uint16_t len = kFrameLen - kUdp6HeadersLen - 4;
      Frame cd(4 + len, 0x5a);
      stun_wire::store16(cd.data(), 0x4000);
      stun_wire::store16(cd.data() + 2, len);
      return udp6_frame(client_ip6(id), kClientPort, kListenerIp6, kListenerPort, cd);
    }
    case Path::send_to_peer: {
      const uint16_t len = kFrameLen - kUdp6HeadersLen - stun_wire::kHeaderLen - 24 - 4;
      Frame m = stun_message(stun_wire::kSendIndication, static_cast<uint16_t>(24 + 4 + stun_wire::padded(len)));
      std::memcpy(m.data() + 8, transaction_id, 12);
      stun_wire::write_xor_address(m.data() + 20, stun::AttributeType::xor_peer_address, kPeerIp6, kPeerPort, m.data() + 8);
      stun_wire::store16(m.data() + 44, stun::AttributeType::data);
      stun_wire::store16(m.data() + 46, len);
      std::memset(m.data() + 48, 0x5a, len);
      return udp6_frame(client_ip6(id), kClientPort, kListenerIp6, kListenerPort, m);
    }
    case Path::peer_channel_data:
      return udp6_frame(kPeerIp6, kPeerPort, relay_ip6(id), relay_port(id), Frame(kFrameLen - kUdp6HeadersLen, 0x5a));
    case Path::peer_data_indication:
      return udp6_frame(kOtherPeerIp6, kPeerPort, relay_ip6(id), relay_port(id), Frame(kFrameLen - kUdp6HeadersLen, 0x5a));
    default:
      return {};
  }
}

World& world6(uint32_t allocations) {
  static std::map<uint32_t, std::unique_ptr<World>> worlds;
  auto& w = worlds[allocations];
  if (w) return *w;
  std::vector<IpAddress> relays;
  for (uint32_t i = 0; i < 16; ++i) relays.push_back(relay_ip6(i * kRelayPortsPerAddress).address());
  w = build_world("bm6_" + std::to_string(allocations), env->ipv6, allocations, relays,
                  2 * allocations + 1024, allocations + 1024);
  TableWriter& writer = w->dp->table_writer();
  for (uint32_t id = 0; id < allocations; ++id) {
    AllocationEntry e;
    e.five_tuple.client = {client_ip6(id).address(), Port{40000}};
    e.five_tuple.server = {kListenerIp6.address(), Port{3478}};
    e.relayed = {relay_ip6(id).address(), Port{rte_be_to_cpu_16(relay_port(id))}};
    e.expires = 1'000'000;
    if (writer.add_allocation(AllocId{id}, e) != WriteResult::ok ||
        writer.set_permission(AllocId{id}, kPeerIp6.address(), 1'000'000) != WriteResult::ok ||
        writer.set_permission(AllocId{id}, kOtherPeerIp6.address(), 1'000'000) != WriteResult::ok ||
        writer.set_channel(AllocId{id}, 0x4000, {kPeerIp6.address(), Port{7000}}, 1'000'000) != WriteResult::ok) {
      fprintf(stderr, "cannot publish IPv6 allocation %u\n", id);
      std::exit(1);
    }
  }
  return *w;
}

void run_path6(benchmark::State& state, Path path, CounterId expect) {
  const auto allocations = static_cast<uint32_t>(state.range(0));
  World& w = world6(allocations);
  std::vector<Frame> templates;
  std::uniform_int_distribution<uint32_t> pick(0, allocations - 1);
  uint8_t transaction_id[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  for (unsigned i = 0; i < kTemplates; ++i) templates.push_back(make_frame6(path, pick(w.rng), transaction_id));
  run_frames(state, w, templates, expect, Worker::Mode::bulk);
}

void BM_ChannelDataToPeer6(benchmark::State& s) {
  run_path6(s, Path::channel_data_to_peer, CounterId::channel_data_to_peer);
}
void BM_SendToPeer6(benchmark::State& s) { run_path6(s, Path::send_to_peer, CounterId::send_to_peer); }
void BM_PeerToClientChannelData6(benchmark::State& s) {
  run_path6(s, Path::peer_channel_data, CounterId::channel_data_to_client);
}
void BM_PeerToClientDataIndication6(benchmark::State& s) {
  run_path6(s, Path::peer_data_indication, CounterId::data_indication_to_client);
}

// The harness alone: receive (allocate + copy) and transmit, no processing.
void BM_IoOnly(benchmark::State& state) {
  World& w = world(1000);
  const std::vector<Frame> templates = frames(w, Path::channel_data_to_peer, 1000);
  rte_mbuf* pkts[kBurst];
  unsigned cursor = 0;
  for (auto _ : state) {
    if (!receive(pkts, templates, cursor)) {
      state.SkipWithError("mempool empty");
      break;
    }
    const uint16_t sent = rte_eth_tx_burst(env->port, 0, pkts, kBurst);
    if (sent < kBurst) rte_pktmbuf_free_bulk(pkts + sent, kBurst - sent);
  }
  per_packet(state);
}

void BM_ClientLookupBulk(benchmark::State& state) {
  const auto allocations = static_cast<uint32_t>(state.range(0));
  World& w = world(allocations);
  std::vector<ClientKey> keys;
  std::uniform_int_distribution<uint32_t> pick(0, allocations - 1);
  for (unsigned i = 0; i < 65536; ++i)
    keys.push_back(make_client_key(client_ip(pick(w.rng)), kClientPort, kListenerIp, kListenerPort));
  const ClientKey* batch[kGroup];
  AllocId ids[kGroup];
  unsigned cursor = 0;
  for (auto _ : state) {
    for (unsigned i = 0; i < kGroup; ++i) batch[i] = &keys[(cursor + i) & 65535];
    cursor += kGroup;
    w.dp->tables().find_clients(batch, kGroup, ids);
    benchmark::DoNotOptimize(ids);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kGroup);
  state.counters["ns/key"] = benchmark::Counter(kGroup, benchmark::Counter::kIsIterationInvariantRate |
                                                                  benchmark::Counter::kInvert);
}

void BM_ClientLookup(benchmark::State& state) {
  const auto allocations = static_cast<uint32_t>(state.range(0));
  World& w = world(allocations);
  std::vector<ClientKey> keys;
  std::uniform_int_distribution<uint32_t> pick(0, allocations - 1);
  for (unsigned i = 0; i < 65536; ++i)
    keys.push_back(make_client_key(client_ip(pick(w.rng)), kClientPort, kListenerIp, kListenerPort));
  unsigned cursor = 0;
  for (auto _ : state) benchmark::DoNotOptimize(w.dp->tables().find_client(keys[cursor++ & 65535]));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_RelayLookup(benchmark::State& state) {
  const auto allocations = static_cast<uint32_t>(state.range(0));
  World& w = world(allocations);
  std::vector<std::pair<unsigned, uint16_t>> keys;
  std::uniform_int_distribution<uint32_t> pick(0, allocations - 1);
  for (unsigned i = 0; i < 65536; ++i) {
    const uint32_t id = pick(w.rng);
    keys.emplace_back(id / kRelayPortsPerAddress, relay_port(id));
  }
  unsigned cursor = 0;
  for (auto _ : state) {
    const auto& [index, port] = keys[cursor++ & 65535];
    benchmark::DoNotOptimize(w.dp->tables().find_relay(index, port));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

#define TERN_SIZES ->Arg(1000)->Arg(100'000)->Arg(1'000'000)
BENCHMARK(BM_IoOnly);
BENCHMARK(BM_ChannelDataToPeer) TERN_SIZES;
BENCHMARK(BM_ChannelDataToPeerScalar) TERN_SIZES;
BENCHMARK(BM_SendToPeer) TERN_SIZES;
BENCHMARK(BM_PeerToClientChannelData) TERN_SIZES;
BENCHMARK(BM_PeerToClientChannelDataScalar) TERN_SIZES;
BENCHMARK(BM_PeerToClientDataIndication) TERN_SIZES;
BENCHMARK(BM_Binding)->Arg(1000);
BENCHMARK(BM_Hairpin) TERN_SIZES;
BENCHMARK(BM_ChannelDataToPeerWithStreams)->Arg(100'000);
BENCHMARK(BM_PeerToClientChannelDataWithStreams)->Arg(100'000);
#define TERN_SIZES6 ->Arg(1000)->Arg(100'000)
BENCHMARK(BM_ChannelDataToPeer6) TERN_SIZES6;
BENCHMARK(BM_SendToPeer6) TERN_SIZES6;
BENCHMARK(BM_PeerToClientChannelData6) TERN_SIZES6;
BENCHMARK(BM_PeerToClientDataIndication6) TERN_SIZES6;
BENCHMARK(BM_ClientLookupBulk) TERN_SIZES;
BENCHMARK(BM_ClientLookup) TERN_SIZES;
BENCHMARK(BM_RelayLookup) TERN_SIZES;

bool setup(bool huge) {
  const std::string prefix = "tern_bm_" + std::to_string(getpid());
  std::vector<std::string> args = {"bm_dataplane", "-l", "0", "--no-pci", "--no-shconf",
                                   "--file-prefix", prefix, "--log-level", "error", "-m", "2048"};
  args.push_back(huge ? "--in-memory" : "--no-huge");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) return false;
  env.emplace();
  env->pool = rte_pktmbuf_pool_create("bm_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  if (env->pool == nullptr || rte_dev_probe("net_null0") != 0 ||
      rte_eth_dev_get_port_by_name("net_null0", &env->port) != 0)
    return false;
  rte_eth_conf conf{};
  if (rte_eth_dev_configure(env->port, 1, 1, &conf) != 0 ||
      rte_eth_rx_queue_setup(env->port, 0, 512, 0, nullptr, env->pool) != 0 ||
      rte_eth_tx_queue_setup(env->port, 0, 512, 0, nullptr) != 0 || rte_eth_dev_start(env->port) != 0)
    return false;

  PortConfig pc;
  pc.port_id = env->port;
  pc.mac = kOurMac;
  for (uint8_t i = 0; i < 16; ++i) pc.addresses.push_back({IpAddress::v4(10, 90, 1, i), 16});
  pc.gateway = IpAddress::v4(rte_be_to_cpu_32(kGatewayIp));
  env->ipv4.ports = {pc};
  env->ipv4.listeners = {{IpAddress::v4(rte_be_to_cpu_32(kListenerIp)), Port{3478}}};
  for (uint32_t i = 0; i < 16; ++i) pc.addresses.push_back({relay_ip6(i * kRelayPortsPerAddress).address(), 64});
  pc.gateway6 = kGatewayIp6.address();
  env->ipv6.ports = {pc};
  env->ipv6.listeners = {{IpAddress::v4(rte_be_to_cpu_32(kListenerIp)), Port{3478}},
                         {kListenerIp6.address(), Port{3478}}};
  return true;
}

}  // namespace
}  // namespace tern::dp

int main(int argc, char** argv) {
  bool huge = false;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--huge")
      huge = true;
    else
      rest.push_back(argv[i]);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (!tern::dp::setup(huge)) {
    fprintf(stderr, "EAL or port setup failed%s\n", huge ? " (are hugepages reserved?)" : "");
    return 1;
  }
  fprintf(stderr, "EAL memory: %s\n", huge ? "hugepages (--in-memory)" : "no hugepages (--no-huge)");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
