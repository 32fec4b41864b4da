// The whole data plane, started the way ternd starts it, on net_af_packet bound to one end of a
// veth pair inside a private network namespace; the Linux stack on the other end is client and
// peer. It checks what only a running data plane shows: every lcore's worker polls every queue the
// kernel spreads flows onto (the af_packet fanout includes the control lcore's queue pair), ARP
// is learnt and answered through the control lcore, relayed checksums satisfy the kernel, punted
// requests are answered on the control queue, and stop() brings it all down.

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "dataplane/setup/runtime.hpp"
#include "tests/unit/skips.hpp"

namespace tern::dp {
namespace {

using Bytes = std::vector<uint8_t>;
using Clock = std::chrono::steady_clock;

constexpr const char* kDpdkSide = "tern-dp0";
constexpr const char* kKernelSide = "tern-k0";
constexpr const char* kOurIp = "10.77.0.1";
constexpr const char* kKernelIp = "10.77.0.2";
constexpr const char* kOurIp6 = "2001:db8:77::1";
constexpr const char* kKernelIp6 = "2001:db8:77::2";
constexpr uint16_t kListener = 3478;
constexpr int kFlows = 64;

bool sh(const std::string& command) { return std::system(command.c_str()) == 0; }

int udp_socket(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, kKernelIp, &a.sin_addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  return fd;
}

void send_to(int fd, const Bytes& b, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, kOurIp, &a.sin_addr);
  sendto(fd, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

bool receive(int fd, Bytes& out) {
  uint8_t buf[2048];
  const ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n < 0) return false;
  out.assign(buf, buf + n);
  return true;
}

Bytes stun(uint16_t type, uint8_t tag) {
  Bytes b = {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 0, 0x21, 0x12, 0xA4, 0x42};
  for (int i = 0; i < 12; ++i) b.push_back(static_cast<uint8_t>(tag + i));
  return b;
}

class RuntimeTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    ready_ = sh(std::string("ip link add ") + kDpdkSide + " type veth peer name " + kKernelSide) &&
             sh(std::string("ip link set ") + kDpdkSide + " up") &&
             sh(std::string("ip link set ") + kKernelSide + " up") &&
             sh(std::string("ip addr add ") + kKernelIp + "/24 dev " + kKernelSide) &&
             sh(std::string("ip -6 addr add ") + kKernelIp6 + "/64 dev " + kKernelSide + " nodad") &&
             // The kernel would leave checksums of what it sends over the veth to "the NIC"; with
             // nobody to finish them they would reach the data plane unfinished.
             sh(std::string("ethtool -K ") + kKernelSide + " tx off >/dev/null");
    if (!ready_) return;
    RuntimeConfig c;
    c.eal = {"--no-huge", "-m", "512", "--no-shconf", "--no-pci", "-l", "0-1", "--file-prefix",
             "tern_runtime_" + std::to_string(getpid()), "--log-level", "error"};
    RuntimePort port;
    port.device = std::string("net_af_packet0,iface=") + kDpdkSide + ",qdisc_bypass=1";
    port.addresses = {*InterfaceAddress::parse("10.77.0.1/24"),
                      *InterfaceAddress::parse("2001:db8:77::1/64")};
    c.ports = {port};
    c.listeners = {*TransportAddress::parse("10.77.0.1:3478"),
                   *TransportAddress::parse("[2001:db8:77::1]:3478")};
    c.relay_addresses = {*IpAddress::parse(kOurIp), *IpAddress::parse(kOurIp6)};
    c.table_size = 1024;
    c.mbufs = 4095;
    std::string error;
    runtime_ = Runtime::start(c, error).release();
    start_error_ = error;
  }
  static void TearDownTestSuite() {
    delete runtime_;
    runtime_ = nullptr;
    sh(std::string("ip link del ") + kDpdkSide + " 2>/dev/null");
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << "no veth pair (needs root and iproute2)";
    ASSERT_NE(runtime_, nullptr) << start_error_;
  }

  // Runs the control plane's side (ARP learning and answering happen in receive()) until
  // `done` or a generous deadline.
  template <typename Done>
  void pump(Done done, std::vector<PuntedMessage>* punted = nullptr) {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    std::vector<PuntedMessage> got(16);
    while (!done() && Clock::now() < deadline) {
      const size_t n = runtime_->io().receive(got);
      for (size_t i = 0; i < n; ++i) {
        if (punted != nullptr)
          punted->push_back(got[i]);
        else
          runtime_->io().release(got[i].handle);
      }
      usleep(1000);
    }
  }

  static inline bool ready_ = false;
  static inline Runtime* runtime_ = nullptr;
  static inline std::string start_error_;
};

// Many flows: the kernel's fanout spreads them over every AF_PACKET socket of the port,
// including the control lcore's queue pair; every one is answered.
TEST_F(RuntimeTest, EveryFlowIsAnsweredWhicheverQueueItLandsOn) {
  EXPECT_EQ(runtime_->workers(), 1u);
  std::vector<int> fds;
  for (int i = 0; i < kFlows; ++i) {
    fds.push_back(udp_socket(static_cast<uint16_t>(41000 + i)));
    ASSERT_GE(fds.back(), 0);
  }
  std::map<int, Bytes> answers;
  auto done = [&] {
    for (int i = 0; i < kFlows; ++i) {
      Bytes b;
      if (receive(fds[i], b)) answers[i] = b;
    }
    return answers.size() == kFlows;
  };
  // The first request waits for ARP (the kernel's and ours): resend it until answered.
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!answers.count(0) && Clock::now() < deadline) {
    send_to(fds[0], stun(0x0001, 0), kListener);
    const auto until = Clock::now() + std::chrono::milliseconds(200);
    pump([&] { return done() || answers.count(0) || Clock::now() > until; });
  }
  ASSERT_TRUE(answers.count(0));
  // Then one request per flow, never repeated: a flow the kernel put on a queue nobody polls
  // would stay unanswered.
  for (int i = 1; i < kFlows; ++i) send_to(fds[i], stun(0x0001, static_cast<uint8_t>(i)), kListener);
  pump(done);
  ASSERT_EQ(answers.size(), size_t{kFlows});
  for (int i = 0; i < kFlows; ++i) {
    const Bytes& b = answers[i];
    ASSERT_GE(b.size(), 32u);
    EXPECT_EQ(b[0], 0x01);
    EXPECT_EQ(b[1], 0x01);  // Binding success
    EXPECT_EQ(std::memcmp(b.data() + 8, stun(0x0001, static_cast<uint8_t>(i)).data() + 8, 12), 0);
    // XOR-MAPPED-ADDRESS: the kernel side's port
    const uint16_t xport = static_cast<uint16_t>((b[26] << 8) | b[27]);
    EXPECT_EQ(xport ^ 0x2112, 41000 + i);
  }
  for (int fd : fds) close(fd);
  EXPECT_GE(runtime_->counters()[static_cast<size_t>(CounterId::binding_answered)], size_t{kFlows});
}

// A punted request reaches the control plane with its 5-tuple and the reply reaches the client.
TEST_F(RuntimeTest, PuntedRequestIsAnsweredFromTheControlQueue) {
  const int fd = udp_socket(42000);
  ASSERT_GE(fd, 0);
  std::vector<PuntedMessage> punted;
  Bytes reply;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (punted.empty() && Clock::now() < deadline) {
    send_to(fd, stun(0x0003, 0x50), kListener);  // Allocate
    const auto until = Clock::now() + std::chrono::milliseconds(100);
    pump([&] { return !punted.empty() || Clock::now() > until; }, &punted);
  }
  ASSERT_FALSE(punted.empty());
  const PuntedMessage& m = punted[0];
  EXPECT_EQ(m.five_tuple.client, *TransportAddress::parse("10.77.0.2:42000"));
  EXPECT_EQ(m.five_tuple.server, *TransportAddress::parse("10.77.0.1:3478"));
  EXPECT_EQ(m.reason, PuntReason::stun_request);
  const Bytes answer = stun(0x0113, 0x50);
  EXPECT_EQ(runtime_->io().reply(m, answer), SendResult::sent);
  for (const PuntedMessage& p : punted) runtime_->io().release(p.handle);
  pump([&] { return receive(fd, reply); });
  EXPECT_EQ(reply, answer);
  close(fd);
}

// An allocation published through the table writer relays both ways between two kernel
// sockets, and the kernel accepts the checksums the worker computed incrementally.
TEST_F(RuntimeTest, RelaysBetweenKernelSockets) {
  const int client = udp_socket(43000);
  const int peer = udp_socket(43001);
  ASSERT_GE(client, 0);
  ASSERT_GE(peer, 0);
  TableWriter& w = runtime_->tables();
  const TableTime now = runtime_->io().now();
  AllocationEntry e;
  e.five_tuple = {*TransportAddress::parse("10.77.0.2:43000"), *TransportAddress::parse("10.77.0.1:3478")};
  e.relayed = *TransportAddress::parse("10.77.0.1:50000");
  e.expires = now + 600;
  ASSERT_EQ(w.add_allocation(AllocId{3}, e), WriteResult::ok);
  ASSERT_EQ(w.set_permission(AllocId{3}, *IpAddress::parse(kKernelIp), now + 300), WriteResult::ok);
  ASSERT_EQ(w.set_channel(AllocId{3}, 0x4000, *TransportAddress::parse("10.77.0.2:43001"), now + 600), WriteResult::ok);

  Bytes cd = {0x40, 0x00, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};  // padded
  Bytes got;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (got.empty() && Clock::now() < deadline) {
    send_to(client, cd, kListener);
    const auto until = Clock::now() + std::chrono::milliseconds(100);
    pump([&] { return receive(peer, got) || Clock::now() > until; });
  }
  EXPECT_EQ(got, Bytes({'h', 'e', 'l', 'l', 'o'}));

  got.clear();
  send_to(peer, {'w', 'o', 'r', 'l', 'd', '!', '!'}, 50000);
  pump([&] { return receive(client, got); });
  EXPECT_EQ(got, Bytes({0x40, 0x00, 0x00, 0x07, 'w', 'o', 'r', 'l', 'd', '!', '!'}));
  const AllocationTrafficValues t = runtime_->allocation_traffic(AllocId{3});
  EXPECT_GE(t.packets_to_peer, 1u);
  EXPECT_EQ(t.packets_to_client, 1u);
  EXPECT_EQ(t.bytes_to_client, 7u);
  close(client);
  close(peer);
}

// A trace of the kernel side's address records the worker's answers to it; an address nobody
// uses records nothing.
TEST_F(RuntimeTest, TracesAnAddress) {
  const int fd = udp_socket(44000);
  ASSERT_GE(fd, 0);
  runtime_->tracing().set_trace(IpAddress::parse(kKernelIp));
  std::vector<TraceRecord> records;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (records.empty() && Clock::now() < deadline) {
    send_to(fd, stun(0x0001, 0x60), kListener);
    const auto until = Clock::now() + std::chrono::milliseconds(100);
    pump([&] {
      TraceRecord r[16];
      const size_t n = runtime_->tracing().read_trace(r);
      records.insert(records.end(), r, r + n);
      return !records.empty() || Clock::now() > until;
    });
  }
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records[0].packet, TracePacket::binding);
  EXPECT_EQ(records[0].outcome, TraceOutcome::answered);
  EXPECT_EQ(records[0].from, *TransportAddress::parse("10.77.0.2:44000"));
  runtime_->tracing().set_trace(IpAddress::parse("10.77.0.99"));
  send_to(fd, stun(0x0001, 0x61), kListener);
  Bytes answer;
  pump([&] { return receive(fd, answer); });
  TraceRecord r[16];
  EXPECT_EQ(runtime_->tracing().read_trace(r), 0u);
  runtime_->tracing().set_trace(std::nullopt);
  close(fd);
}

// What the operator and the benchmarks read: the port as the NIC reports it, the pool (back to
// its idle use once traffic has passed: no buffer leaks), the rings, the cycle counters.
TEST_F(RuntimeTest, StatsDescribeTheDataPlane) {
  const std::vector<PoolStats> pools = runtime_->pools();
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].size, 4095u);
  const uint32_t idle = pools[0].in_use;

  const int fd = udp_socket(45000);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 200; ++i) send_to(fd, stun(0x0001, static_cast<uint8_t>(i)), kListener);
  for (int i = 0; i < 20; ++i) send_to(fd, stun(0x0003, static_cast<uint8_t>(i)), kListener);  // punted
  int answers = 0;
  pump([&] {
    Bytes b;
    while (receive(fd, b)) ++answers;
    return answers == 200 && runtime_->pools()[0].in_use == idle;
  });
  EXPECT_EQ(answers, 200);
  EXPECT_EQ(runtime_->pools()[0].in_use, idle);
  close(fd);

  const std::vector<PortStats> ports = runtime_->ports();
  ASSERT_EQ(ports.size(), 1u);
  EXPECT_EQ(ports[0].driver, "net_af_packet");
  EXPECT_EQ(ports[0].device.rfind("net_af_packet0,iface=tern-dp0", 0), 0u);
  EXPECT_TRUE(ports[0].link_up);
  EXPECT_GE(ports[0].rx_packets, 220u);
  EXPECT_GE(ports[0].tx_packets, 200u);
  EXPECT_GT(ports[0].rx_bytes, ports[0].rx_packets * 42);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, kDpdkSide, IFNAMSIZ - 1);
  const int s = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
  close(s);
  EXPECT_EQ(std::memcmp(ifr.ifr_hwaddr.sa_data, ports[0].mac.data(), 6), 0);

  const WorkerRingStats rings = runtime_->worker_rings(0);
  EXPECT_EQ(rings.punt, 0u);  // all taken by the control lcore
  EXPECT_GT(rings.punt_capacity, 0u);
  EXPECT_GT(rings.hold_capacity, 0u);
  EXPECT_GT(rings.trace_capacity, 0u);

  EXPECT_GT(runtime_->tsc_hz(), 0u);
  const CounterValues c = runtime_->counters();
  EXPECT_GT(c[static_cast<size_t>(CounterId::busy_cycles)], 0u);
  EXPECT_GT(c[static_cast<size_t>(CounterId::total_cycles)], c[static_cast<size_t>(CounterId::busy_cycles)]);
}

int udp6_socket(uint16_t port) {
  const int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  inet_pton(AF_INET6, kKernelIp6, &a.sin6_addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  return fd;
}

void send6_to(int fd, const Bytes& b, uint16_t port) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  inet_pton(AF_INET6, kOurIp6, &a.sin6_addr);
  sendto(fd, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

// Over IPv6: the kernel resolves our address (neighbour discovery answered by the control lcore),
// its Binding request is answered, and an IPv6 allocation relays between two kernel sockets
// (our solicitation for the kernel's address, the packet waiting for the answer), with the
// mandatory UDP checksums the kernel accepts.
TEST_F(RuntimeTest, Ipv6BindingAndRelay) {
  const int client = udp6_socket(46000);
  const int peer = udp6_socket(46001);
  ASSERT_GE(client, 0);
  ASSERT_GE(peer, 0);
  Bytes got;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (got.empty() && Clock::now() < deadline) {
    send6_to(client, stun(0x0001, 0x70), kListener);
    const auto until = Clock::now() + std::chrono::milliseconds(200);
    pump([&] { return receive(client, got) || Clock::now() > until; });
  }
  ASSERT_GE(got.size(), 44u);
  EXPECT_EQ(got[1], 0x01);     // Binding success
  EXPECT_EQ(got[25], 0x02);    // XOR-MAPPED-ADDRESS, IPv6
  EXPECT_EQ(((got[26] << 8) | got[27]) ^ 0x2112, 46000);

  TableWriter& w = runtime_->tables();
  const TableTime now = runtime_->io().now();
  AllocationEntry e;
  e.five_tuple = {*TransportAddress::parse("[2001:db8:77::2]:46000"),
                  *TransportAddress::parse("[2001:db8:77::1]:3478")};
  e.relayed = *TransportAddress::parse("[2001:db8:77::1]:50600");
  e.expires = now + 600;
  ASSERT_EQ(w.add_allocation(AllocId{6}, e), WriteResult::ok);
  ASSERT_EQ(w.set_permission(AllocId{6}, *IpAddress::parse(kKernelIp6), now + 300), WriteResult::ok);
  ASSERT_EQ(w.set_channel(AllocId{6}, 0x4006, *TransportAddress::parse("[2001:db8:77::2]:46001"), now + 600),
            WriteResult::ok);
  // Sent once: the first packet waits for the kernel's address to be resolved, it is not lost.
  send6_to(client, {0x40, 0x06, 0x00, 0x03, 's', 'i', 'x', 0}, kListener);
  got.clear();
  pump([&] { return receive(peer, got); });
  EXPECT_EQ(got, Bytes({'s', 'i', 'x'}));
  sockaddr_in6 relayed{};
  relayed.sin6_family = AF_INET6;
  relayed.sin6_port = htons(50600);
  inet_pton(AF_INET6, kOurIp6, &relayed.sin6_addr);
  const Bytes back = {'b', 'a', 'c', 'k'};
  sendto(peer, back.data(), back.size(), 0, reinterpret_cast<sockaddr*>(&relayed), sizeof relayed);
  got.clear();
  pump([&] { return receive(client, got); });
  EXPECT_EQ(got, Bytes({0x40, 0x06, 0x00, 0x04, 'b', 'a', 'c', 'k'}));
  close(client);
  close(peer);
}

// stop() with requests still arriving: the workers leave and the ports close within a bound, and
// nothing answers afterwards (no queue is polled any more). The last test: it stops the suite's
// data plane.
TEST_F(RuntimeTest, StopsCleanly) {
  const int fd = udp_socket(47000);
  ASSERT_GE(fd, 0);
  Bytes answer;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (answer.empty() && Clock::now() < deadline) {
    send_to(fd, stun(0x0001, 0x30), kListener);
    const auto until = Clock::now() + std::chrono::milliseconds(200);
    pump([&] { return receive(fd, answer) || Clock::now() > until; });
  }
  ASSERT_FALSE(answer.empty()) << "the data plane answered nothing before stop()";
  for (int i = 0; i < 500; ++i) send_to(fd, stun(0x0001, static_cast<uint8_t>(i)), kListener);

  const auto started = Clock::now();
  runtime_->stop();
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(runtime_->workers(), 0u);
  EXPECT_TRUE(runtime_->ports().empty());
  // Answers sent before the stop may still be on their way through the veth: take them, then
  // nothing more comes.
  usleep(200'000);
  while (receive(fd, answer)) {
  }
  send_to(fd, stun(0x0001, 0x31), kListener);
  usleep(300'000);
  EXPECT_FALSE(receive(fd, answer)) << "answered after stop()";
  runtime_->stop();  // again: nothing left to stop, nothing breaks
  delete runtime_;
  runtime_ = nullptr;
  close(fd);
}

}  // namespace
}  // namespace tern::dp

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // A private network namespace for the veth pair, entered before any thread exists.
  if (geteuid() == 0 && unshare(CLONE_NEWNET) != 0) {
    perror("unshare(CLONE_NEWNET)");
    return 1;
  }
  return tern::test::run_all_tests();  // 77 when a test skipped
}
