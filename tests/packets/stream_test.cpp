// Golden packets for TURN over TCP and TLS (RFC 8656 §3.1, §12.5) as the workers see it: a TCP
// segment for a TCP or TLS listener, and an ICMP error quoting one of its connections, goes to the
// kernel through the exception ring untouched; a peer's data for a stream client leaves on the
// to_stream ring framed for the stream (ChannelData padded to four bytes, or a Data indication),
// tagged with the allocation and the connection; a stream client's ChannelData and Send come back
// on the from_stream ring and leave as UDP datagrams to the peer, unless the slot is no longer
// that connection's.

#include <rte_ring.h>

#include "dataplane/worker/stream_meta.hpp"
#include "dataplane/worker/transaction_ids.hpp"
#include "tests/packets/golden.hpp"
#include "tests/packets/golden6.hpp"

namespace tern::test {
namespace {

using dp::CounterId;

constexpr uint16_t kSend = 0x0016;
constexpr uint16_t kDataIndication = 0x0017;
constexpr uint16_t kXorPeerAddress = 0x0012;
constexpr uint16_t kData = 0x0013;

// A TCP client connected to the TLS listener on 443, with an allocation relayed on kRelayIp.
constexpr dp::AllocId kStreamAlloc{20};
constexpr dp::StreamId kStream{5};
constexpr uint16_t kStreamClientPort = 40000;
constexpr uint16_t kStreamRelayPort = 50002;
constexpr uint16_t kStreamChannel = 0x4002;  // bound to kPeerIp:kPeerPort

// A 20-byte TCP header (RFC 9293 §3.1): what matters to the workers is the ports.
Bytes tcp_header(uint16_t src_port, uint16_t dst_port, uint8_t flags = 0x02) {
  Bytes h(20, 0);
  h[0] = static_cast<uint8_t>(src_port >> 8);
  h[1] = static_cast<uint8_t>(src_port);
  h[2] = static_cast<uint8_t>(dst_port >> 8);
  h[3] = static_cast<uint8_t>(dst_port);
  h[12] = 5 << 4;  // data offset: five words
  h[13] = flags;
  h[14] = 0xfa;    // window
  return h;
}

struct Taken {
  Bytes bytes;
  dp::StreamMeta meta;
};

class Stream : public Golden {
 protected:
  void SetUp() override { build_streams(GoldenOptions{}); }

  void build_streams(GoldenOptions options) {
    options.streams = true;
    build(options);
    dp::AllocationEntry e;
    e.five_tuple = {*TransportAddress::parse("10.90.0.10:40000"), *TransportAddress::parse("10.90.0.1:443"),
                    dp::Transport::tcp};
    e.stream = kStream;
    e.relayed = *TransportAddress::parse("10.90.0.2:50002");
    e.expires = kExpires;
    ASSERT_EQ(writer().add_allocation(kStreamAlloc, e), dp::WriteResult::ok);
    ASSERT_EQ(writer().set_permission(kStreamAlloc, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
    ASSERT_EQ(writer().set_permission(kStreamAlloc, *IpAddress::parse(kFarPeerIp), kExpires), dp::WriteResult::ok);
    ASSERT_EQ(writer().set_channel(kStreamAlloc, kStreamChannel, *TransportAddress::parse("192.0.2.50:7000"), kExpires),
              dp::WriteResult::ok);
  }

  // Everything on one of worker 0's stream rings, with its dynamic field.
  std::vector<Taken> take(rte_ring* ring) {
    std::vector<Taken> out;
    void* obj;
    while (rte_ring_dequeue(ring, &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
      out.push_back({Bytes(d, d + rte_pktmbuf_data_len(m)), dp::stream_meta(m, dp_->stream_offset())});
      rte_pktmbuf_free(m);
    }
    return out;
  }
  std::vector<Taken> to_kernel() { return take(dp_->exception_rings()[0]); }
  std::vector<Taken> to_stream() { return take(dp_->to_stream_rings()[0]); }

  // What the stream transport hands a worker: one message cut from the client's stream.
  void from_stream(const Bytes& message, dp::AllocId allocation = kStreamAlloc, dp::StreamId stream = kStream) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(message.size())), message.data(), message.size());
    dp::stream_meta(m, dp_->stream_offset()) = {allocation, stream};
    ASSERT_EQ(rte_ring_enqueue(dp_->from_stream_rings()[0], m), 0);
  }

  // A datagram the server originates for the peer from the stream allocation's relayed address.
  PacketBuilder stream_to_peer(const Bytes& data, uint16_t id) const {
    PacketBuilder b;
    b.ether(kPort1Mac, kPeerMac).ipv4(kRelayIp, kPeerIp).ttl(64).id(id).udp(kStreamRelayPort, kPeerPort).payload(data);
    return b;
  }
};

// RFC 9293: the kernel's TCP serves the listener; the worker hands the frame over byte for byte.
TEST_F(Stream, TcpForAListenerGoesToTheKernelUntouched) {
  for (const auto mode : {dp::Worker::Mode::bulk, dp::Worker::Mode::scalar}) {
    for (const uint16_t port : {kListenerPort, kTlsPort}) {
      PacketBuilder syn;
      syn.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).protocol(6)
          .payload(tcp_header(kStreamClientPort, port));
      inject(0, syn.bytes());
      EXPECT_TRUE(run(mode).empty());
      const auto taken = to_kernel();
      ASSERT_EQ(taken.size(), 1u);
      EXPECT_FRAME(taken[0].bytes, syn.bytes());
    }
  }
  EXPECT_EQ(counter(CounterId::to_kernel), 4u);
}

// Only the listeners' ports: TCP to any other port of ours is not served.
TEST_F(Stream, TcpToAnotherPortIsDropped) {
  PacketBuilder syn;
  syn.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).protocol(6).payload(tcp_header(kStreamClientPort, 80));
  inject(0, syn.bytes());
  PacketBuilder to_relay;
  to_relay.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kRelayIp).protocol(6).payload(tcp_header(kStreamClientPort, 443));
  inject(0, to_relay.bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_TRUE(to_kernel().empty());
  EXPECT_EQ(counter(CounterId::drop_protocol), 2u);
  EXPECT_EQ(counter(CounterId::to_kernel), 0u);
}

// Without TCP or TLS listeners there is no exception path: TCP to 3478 is no protocol of ours.
TEST_F(Stream, TcpIsDroppedWithoutStreamListeners) {
  build(GoldenOptions{});
  PacketBuilder syn;
  syn.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).protocol(6)
      .payload(tcp_header(kStreamClientPort, kListenerPort));
  inject(0, syn.bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_protocol), 1u);
  EXPECT_TRUE(dp_->exception_rings().empty());
}

// RFC 1191: fragmentation needed, about a segment our listener sent: the kernel's TCP needs it for
// path MTU discovery. An ICMP error about anything else stays dropped.
TEST_F(Stream, IcmpErrorAboutOurTcpGoesToTheKernel) {
  const auto quoted = [](uint8_t protocol, std::string_view src, uint16_t src_port) {
    PacketBuilder b;
    b.ether(kPort0Mac, kGatewayMac).ipv4(src, kRemoteClientIp).protocol(protocol)
        .payload(tcp_header(src_port, kRemoteClientPort));
    const Bytes frame = b.bytes();
    return Bytes(frame.begin() + 14, frame.begin() + 14 + 28);  // IPv4 header and 8 bytes
  };
  PacketBuilder ours;
  ours.ether(kGatewayMac, kPort0Mac).ipv4(kGatewayIp, kListenerIp).icmp(3, 4, 0, 1400)
      .payload(quoted(6, kListenerIp, kTlsPort));
  inject(0, ours.bytes());
  PacketBuilder udp;  // about a UDP datagram from the listener
  udp.ether(kGatewayMac, kPort0Mac).ipv4(kGatewayIp, kListenerIp).icmp(3, 4, 0, 1400)
      .payload(quoted(17, kListenerIp, kListenerPort));
  inject(0, udp.bytes());
  PacketBuilder other_port;  // TCP, but not from a listener's port
  other_port.ether(kGatewayMac, kPort0Mac).ipv4(kGatewayIp, kListenerIp).icmp(3, 4, 0, 1400)
      .payload(quoted(6, kListenerIp, 22));
  inject(0, other_port.bytes());
  EXPECT_TRUE(run().empty());
  const auto taken = to_kernel();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_FRAME(taken[0].bytes, ours.bytes());
  EXPECT_EQ(counter(CounterId::to_kernel), 1u);
  EXPECT_EQ(counter(CounterId::drop_icmp), 2u);
}

// RFC 8656 §12.5: over TCP and TLS, ChannelData is padded to a multiple of four bytes.
TEST_F(Stream, PeerDataOnAChannelLeavesPaddedOnTheStreamRing) {
  for (size_t len : {0u, 1u, 2u, 3u, 4u, 5u, 300u}) inject(1, from_peer(pattern(len, 0x30), kStreamRelayPort).bytes());
  EXPECT_TRUE(run().empty());
  const auto taken = to_stream();
  ASSERT_EQ(taken.size(), 7u);
  size_t i = 0;
  for (size_t len : {0u, 1u, 2u, 3u, 4u, 5u, 300u}) {
    const Bytes expected = channel_data(kStreamChannel, pattern(len, 0x30), Bytes((4 - len % 4) % 4, 0));
    EXPECT_FRAME(taken[i].bytes, expected) << len;
    EXPECT_EQ(taken[i].bytes.size() % 4, 0u);
    EXPECT_EQ(taken[i].meta.allocation, kStreamAlloc);
    EXPECT_EQ(taken[i].meta.stream, kStream);
    ++i;
  }
  EXPECT_EQ(counter(CounterId::channel_data_to_client), 7u);
  EXPECT_EQ(traffic(kStreamAlloc).packets_to_client, 7u);
  EXPECT_EQ(traffic(kStreamAlloc).bytes_to_client, 0u + 1 + 2 + 3 + 4 + 5 + 300);
}

// RFC 8656 §11.3: without a channel, a Data indication, the same bytes a UDP client would get.
TEST_F(Stream, PeerDataWithoutAChannelLeavesAsADataIndication) {
  dp::TransactionIds ids(kTransactionSeed);
  const Bytes data = pattern(5, 0x40);
  PacketBuilder in;
  in.ether(kGatewayMac, kPort0Mac).ipv4(kFarPeerIp, kRelayIp).ttl(50).udp(kFarPeerPort, kStreamRelayPort).payload(data);
  inject(0, in.bytes());
  EXPECT_TRUE(run(dp::Worker::Mode::scalar).empty());
  const auto taken = to_stream();
  ASSERT_EQ(taken.size(), 1u);
  TransactionId id;
  ids.next(id.data());
  EXPECT_FRAME(taken[0].bytes,
               StunBuilder(kDataIndication, id).xor_address(kXorPeerAddress, kFarPeerIp, kFarPeerPort)
                   .attribute(kData, data).bytes());
  EXPECT_EQ(counter(CounterId::data_indication_to_client), 1u);
}

// A peer without a permission is dropped as for a UDP client; nothing reaches the stream.
TEST_F(Stream, PeerWithoutPermissionIsDropped) {
  PacketBuilder in;
  in.ether(kGatewayMac, kPort0Mac).ipv4(kRemoteClientIp, kRelayIp).udp(9999, kStreamRelayPort).payload(pattern(8));
  inject(0, in.bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_TRUE(to_stream().empty());
  EXPECT_EQ(counter(CounterId::drop_no_permission), 1u);
}

// RFC 8656 §12.6 and §11.2 from the stream: the client's ChannelData (padded) and Send indication
// leave as UDP datagrams from the relayed address, on the worker's own TX queue.
TEST_F(Stream, ClientDataFromTheStreamGoesToThePeer) {
  const Bytes data = text("hello, peer");  // 11 bytes: one byte of padding on the stream
  from_stream(channel_data(kStreamChannel, data, Bytes(1, 0)));
  from_stream(StunBuilder(kSend, transaction_id(7)).xor_address(kXorPeerAddress, kPeerIp, kPeerPort)
                  .attribute(kData, data).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 2u);
  for (unsigned i = 0; i < 2; ++i) {
    EXPECT_EQ(out[i].port, 1u);
    EXPECT_EQ(out[i].queue, 0u);
    EXPECT_FRAME(out[i].bytes, stream_to_peer(data, static_cast<uint16_t>(kFirstIpId + i)).bytes());
  }
  EXPECT_EQ(counter(CounterId::channel_data_to_peer), 1u);
  EXPECT_EQ(counter(CounterId::send_to_peer), 1u);
  EXPECT_EQ(traffic(kStreamAlloc).packets_to_peer, 2u);
}

// Data in flight when the connection's slot changed hands is never relayed for its next owner.
TEST_F(Stream, DataForAnotherConnectionIsDropped) {
  const Bytes message = channel_data(kStreamChannel, pattern(4));
  from_stream(message, kStreamAlloc, dp::StreamId{6});  // another connection
  from_stream(message, kAlloc, kStream);               // a UDP client's slot
  from_stream(message, dp::kNoAllocation, kStream);
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_stream_stale), 3u);
  ASSERT_EQ(writer().remove_allocation(kStreamAlloc), dp::WriteResult::ok);
  from_stream(message);
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_stream_stale), 4u);
}

// What comes off the stream must be ChannelData or a Send indication; anything else is dropped.
TEST_F(Stream, OtherMessagesFromTheStreamAreDropped) {
  from_stream(StunBuilder(0x0001, transaction_id(8)).bytes());  // a Binding request
  from_stream(text("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::channel_data_to_peer) + counter(CounterId::send_to_peer), 0u);
}

// The workers never see a stream client's packets: its slot is not in the client index, so a UDP
// datagram from the same address and port is a stranger's.
TEST_F(Stream, AStreamClientIsNotInTheClientIndex) {
  PacketBuilder b;
  b.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).udp(kStreamClientPort, kListenerPort)
      .payload(channel_data(kStreamChannel, pattern(4)));
  inject(0, b.bytes());
  for (const auto& s : run()) EXPECT_NE(s.port, 1u) << "relayed to the peer";
  EXPECT_EQ(counter(CounterId::channel_data_to_peer), 0u);
  EXPECT_EQ(traffic(kStreamAlloc).packets_to_peer, 0u);
}

// A full ring to the stream transport drops and counts; the allocation's drops say so too.
TEST_F(Stream, AFullStreamRingDropsAndCounts) {
  GoldenOptions small;
  small.stream_ring_size = 4;  // three entries
  build_streams(small);
  for (int i = 0; i < 8; ++i) inject(1, from_peer(pattern(8), kStreamRelayPort).bytes());
  EXPECT_TRUE(run().empty());
  const size_t delivered = to_stream().size();
  EXPECT_EQ(delivered, 3u);
  EXPECT_EQ(counter(CounterId::drop_stream_ring_full), 8u - delivered);
  EXPECT_EQ(traffic(kStreamAlloc).packets_to_client, delivered);
}

// IPv6: the same exception path for a listener's TCP and an ICMPv6 Packet Too Big about it.
class Stream6 : public Golden6 {
 protected:
  void SetUp() override {
    GoldenOptions options;
    options.streams = true;
    build6(options);
  }
  std::vector<Bytes> to_kernel() {
    std::vector<Bytes> out;
    void* obj;
    while (rte_ring_dequeue(dp_->exception_rings()[0], &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
      out.emplace_back(d, d + rte_pktmbuf_data_len(m));
      rte_pktmbuf_free(m);
    }
    return out;
  }
};

TEST_F(Stream6, TcpAndPacketTooBigGoToTheKernel) {
  PacketBuilder syn;
  syn.ether(kClientMac, kPort0Mac, 0x86dd).ipv6(kClientIp6, kListenerIp6).next_header(6)
      .payload(tcp_header(kStreamClientPort, kTlsPort));
  inject(0, syn.bytes());
  PacketBuilder not_ours;  // TCP to the UDP-only listener port of the IPv6 address
  not_ours.ether(kClientMac, kPort0Mac, 0x86dd).ipv6(kClientIp6, kListenerIp6).next_header(6)
      .payload(tcp_header(kStreamClientPort, kListenerPort));
  inject(0, not_ours.bytes());

  // RFC 4443 §3.2: Packet Too Big, the MTU, then as much of the segment we sent as fits.
  PacketBuilder segment;
  segment.ether(kPort0Mac, kClientMac, 0x86dd).ipv6(kListenerIp6, kClientIp6).next_header(6)
      .payload(tcp_header(kTlsPort, kStreamClientPort, 0x10));
  const Bytes sent = segment.bytes();
  Bytes body = {0x00, 0x00, 0x05, 0x00};  // MTU 1280
  body.insert(body.end(), sent.begin() + 14, sent.end());
  PacketBuilder too_big;
  too_big.ether(kClientMac, kPort0Mac, 0x86dd).ipv6(kClientIp6, kListenerIp6).icmp6(2, 0).payload(body);
  inject(0, too_big.bytes());

  EXPECT_TRUE(run().empty());
  const auto taken = to_kernel();
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_FRAME(taken[0], syn.bytes());
  EXPECT_FRAME(taken[1], too_big.bytes());
  EXPECT_EQ(counter(CounterId::to_kernel), 2u);
}

}  // namespace
}  // namespace tern::test
