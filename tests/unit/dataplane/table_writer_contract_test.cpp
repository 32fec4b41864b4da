// The TableWriter contract (dataplane/contract/table_writer.hpp), held to both of its writers with
// the same cases: the real one (RcuTableWriter over real Tables, with an RCU reader that reports
// quiescent only when a case ends the grace period) and the fake the control plane's unit tests
// run on (tests/unit/control/fake_table_writer.hpp). A case either passes for both or tells which
// one drifted. Each writer is read back through what its readers see: the workers' lookups for
// the real tables, the recorded sets for the fake.

#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "dataplane/tables/rcu_writer.hpp"
#include "dataplane/tables/tables.hpp"
#include "tests/unit/control/fake_table_writer.hpp"

namespace tern::dp {

// Failures name the result rather than print a byte.
[[maybe_unused]] static void PrintTo(WriteResult r, std::ostream* os) {
  constexpr const char* kNames[] = {"ok", "no_room", "not_found", "unsupported"};
  const auto i = static_cast<size_t>(r);
  *os << (i < std::size(kNames) ? kNames[i] : "?");
}

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
TransportAddress ta(const char* text) { return *TransportAddress::parse(text); }

// Both writers' tables are made the same: 64 slots over two IPv4 relay addresses and, when IPv6
// is on, one IPv6 relay address.
constexpr uint32_t kSlots = 64;
const IpAddress kRelay4 = ip("192.0.2.10");
const IpAddress kRelay4b = ip("192.0.2.11");
const IpAddress kRelay6 = ip("2001:db8::10");
constexpr TableTime kNow = 100;

// ---- the real writer over real tables ----

class RealTables {
 public:
  explicit RealTables(bool ipv6) {
    static int serial = 0;
    rcu_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("contract_rcu", rte_rcu_qsbr_get_memsize(1), 64));
    EXPECT_NE(rcu_, nullptr);
    EXPECT_EQ(rte_rcu_qsbr_init(rcu_, 1), 0);
    // One reader, online from the start: nothing removed is reused until it reports quiescent.
    EXPECT_EQ(rte_rcu_qsbr_thread_register(rcu_, 0), 0);
    rte_rcu_qsbr_thread_online(rcu_, 0);
    TablesConfig config;
    // Short: DPDK truncates the RCU defer queues' names, and "<name>_clients" and
    // "<name>_clients6" must stay apart.
    config.name = "c" + std::to_string(serial++);
    config.capacity = kSlots;
    config.relay_ips = {be(kRelay4), be(kRelay4b)};
    if (ipv6) config.relay_ips6 = {Ip6::of(kRelay6)};
    config.ipv6 = ipv6;
    config.permission_overflow = 8;  // the hashes' least: 1024
    config.channel_overflow = 8;     // channel entries beyond the inline ones, shared
    config.rcu = rcu_;
    std::string error;
    tables_ = Tables::create(config, error);
    EXPECT_TRUE(tables_) << error;
    if (tables_) writer_ = RcuTableWriter::create(*tables_, config, error);
    EXPECT_TRUE(writer_) << error;
  }
  ~RealTables() {
    // The reader goes first, as the workers do at stop(): the defer queues then empty, and are
    // freed with the writer and the tables (a queue that still holds entries is not).
    rte_rcu_qsbr_thread_offline(rcu_, 0);
    rte_rcu_qsbr_thread_unregister(rcu_, 0);
    writer_.reset();
    tables_.reset();
    rte_free(rcu_);
  }
  bool made() const { return writer_ != nullptr; }

  TableWriter& writer() { return *writer_; }
  void end_grace_period() { rte_rcu_qsbr_quiescent(rcu_, 0); }

  bool live(AllocId id, TableTime now) const { return Tables::live(tables_->slot(id), now); }
  bool permitted(AllocId id, const IpAddress& peer, TableTime now) const {
    const IpAddress p = peer.canonical();
    const AllocationSlot& a = tables_->slot(id);
    if (relays_ipv6(a)) return p.is_v6() && tables_->permitted(id, a, Ip6::of(p), now);
    return p.is_v4() && tables_->permitted(id, a, be(p), now);
  }
  std::optional<TransportAddress> channel_peer(AllocId id, uint16_t channel, TableTime now) const {
    const AllocationSlot& a = tables_->slot(id);
    uint16_t port = 0;
    if (relays_ipv6(a)) {
      Ip6 peer{};
      if (!tables_->channel_peer(id, a, channel, now, peer, port)) return std::nullopt;
      return TransportAddress{peer.address(), Port{rte_be_to_cpu_16(port)}};
    }
    uint32_t peer = 0;
    if (!tables_->channel_peer(id, a, channel, now, peer, port)) return std::nullopt;
    return TransportAddress{IpAddress::v4(rte_be_to_cpu_32(peer)), Port{rte_be_to_cpu_16(port)}};
  }
  uint16_t channel_of_peer(AllocId id, const TransportAddress& peer, TableTime now) const {
    const IpAddress p = peer.ip.canonical();
    const AllocationSlot& a = tables_->slot(id);
    const uint16_t port = rte_cpu_to_be_16(peer.port.value);
    if (relays_ipv6(a)) return p.is_v6() ? tables_->channel_of_peer(id, a, Ip6::of(p), port, now) : 0;
    return p.is_v4() ? tables_->channel_of_peer(id, a, be(p), port, now) : 0;
  }

 private:
  static uint32_t be(const IpAddress& a) { return rte_cpu_to_be_32(a.v4_host_order()); }
  static bool relays_ipv6(const AllocationSlot& a) { return (a.flags.load() & kRelayIpv6) != 0; }

  rte_rcu_qsbr* rcu_ = nullptr;
  std::unique_ptr<Tables> tables_;
  std::unique_ptr<RcuTableWriter> writer_;
};

// ---- the control plane tests' fake ----

class FakeTables {
 public:
  explicit FakeTables(bool ipv6) : writer_(shape(ipv6)) {}
  bool made() const { return true; }

  TableWriter& writer() { return writer_; }
  void end_grace_period() { writer_.grace(); }

  bool live(AllocId id, TableTime now) const { return writer_.published(id) && now < writer_.entry(id).expires; }
  bool permitted(AllocId id, const IpAddress& peer, TableTime now) const {
    const auto permissions = writer_.permissions(id);
    const auto it = permissions.find(peer.canonical());
    return it != permissions.end() && now < it->second;
  }
  std::optional<TransportAddress> channel_peer(AllocId id, uint16_t channel, TableTime now) const {
    const auto channels = writer_.channels(id);
    const auto it = channels.find(channel);
    if (it == channels.end() || now >= it->second.second) return std::nullopt;
    return it->second.first;
  }
  uint16_t channel_of_peer(AllocId id, const TransportAddress& peer, TableTime now) const {
    const TransportAddress p{peer.ip.canonical(), peer.port};
    for (const auto& [channel, bound] : writer_.channels(id))
      if (bound.first == p) return now < bound.second ? channel : 0;
    return 0;
  }

 private:
  static ctl::test::FakeTableWriter::Shape shape(bool ipv6) {
    ctl::test::FakeTableWriter::Shape s;
    s.slots = kSlots;
    s.relay_addresses = {kRelay4, kRelay4b};
    if (ipv6) s.relay_addresses.push_back(kRelay6);
    s.ipv6 = ipv6;
    return s;
  }

  ctl::test::FakeTableWriter writer_;
};

// ---- the contract ----

template <typename Subject>
class TableWriterContract : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tables.made()); }

  TableWriter& w() { return tables.writer(); }
  static AllocationEntry entry(const char* client, const char* relayed, const char* server = "192.0.2.1:3478",
                               TableTime expires = 700) {
    AllocationEntry e;
    e.five_tuple = {ta(client), ta(server), Transport::udp};
    e.relayed = ta(relayed);
    e.expires = expires;
    return e;
  }
  // An IPv4 client relayed over IPv4, and one relayed over IPv6 (RFC 8656 §7.2: the family the
  // client asked for, whatever its own).
  void add_v4(AllocId id) { ASSERT_EQ(w().add_allocation(id, entry("198.51.100.1:40000", "192.0.2.10:50000")), WriteResult::ok); }
  void add_v6(AllocId id) { ASSERT_EQ(w().add_allocation(id, entry("198.51.100.1:40001", "[2001:db8::10]:50000")), WriteResult::ok); }
  // What the control plane does every tick: collect what the grace period freed.
  std::vector<AllocId> reclaim() {
    AllocId out[kSlots];
    const size_t n = w().reclaimed(out);
    return {out, out + n};
  }

  Subject tables{true};
};

struct SubjectName {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, RealTables> ? "RcuTableWriter" : "FakeTableWriter";
  }
};
using Writers = testing::Types<RealTables, FakeTables>;
TYPED_TEST_SUITE(TableWriterContract, Writers, SubjectName);

TYPED_TEST(TableWriterContract, AddRefreshAndRemoveAnAllocation) {
  TableWriter& w = this->w();
  ASSERT_EQ(w.add_allocation(AllocId{1}, this->entry("198.51.100.1:40000", "192.0.2.10:50000")), WriteResult::ok);
  EXPECT_TRUE(this->tables.live(AllocId{1}, kNow));
  EXPECT_TRUE(this->tables.live(AllocId{1}, 699));
  EXPECT_FALSE(this->tables.live(AllocId{1}, 700));  // valid while now < expires
  // The slot is taken: a second add names a published allocation.
  EXPECT_EQ(w.add_allocation(AllocId{1}, this->entry("198.51.100.1:40002", "192.0.2.10:50002")), WriteResult::not_found);

  // RFC 8656 §7.3: a Refresh moves the expiry, either way.
  ASSERT_EQ(w.set_allocation_expiry(AllocId{1}, 900), WriteResult::ok);
  EXPECT_TRUE(this->tables.live(AllocId{1}, 899));
  EXPECT_FALSE(this->tables.live(AllocId{1}, 900));
  ASSERT_EQ(w.set_allocation_expiry(AllocId{1}, 200), WriteResult::ok);
  EXPECT_FALSE(this->tables.live(AllocId{1}, 200));

  // A stream client's allocation and one with DONT-FRAGMENT are allocations like any other.
  AllocationEntry stream = this->entry("198.51.100.1:40003", "192.0.2.11:50003");
  stream.five_tuple.transport = Transport::tcp;
  stream.stream = StreamId{7};
  stream.dont_fragment = true;
  ASSERT_EQ(w.add_allocation(AllocId{2}, stream), WriteResult::ok);
  EXPECT_TRUE(this->tables.live(AllocId{2}, kNow));

  ASSERT_EQ(w.remove_allocation(AllocId{1}), WriteResult::ok);
  EXPECT_FALSE(this->tables.live(AllocId{1}, kNow));  // at once, not after the grace period
  EXPECT_TRUE(this->tables.live(AllocId{2}, kNow));
  EXPECT_EQ(w.remove_allocation(AllocId{1}), WriteResult::not_found);
  EXPECT_EQ(w.set_allocation_expiry(AllocId{1}, 900), WriteResult::not_found);
}

// not_found: no such allocation, permission or channel published; the call changes nothing.
TYPED_TEST(TableWriterContract, NotFound) {
  TableWriter& w = this->w();
  EXPECT_EQ(w.set_allocation_expiry(AllocId{3}, 900), WriteResult::not_found);
  EXPECT_EQ(w.remove_allocation(AllocId{3}), WriteResult::not_found);
  EXPECT_EQ(w.set_permission(AllocId{3}, ip("203.0.113.1"), 500), WriteResult::not_found);
  EXPECT_EQ(w.remove_permission(AllocId{3}, ip("203.0.113.1")), WriteResult::not_found);
  EXPECT_EQ(w.set_channel(AllocId{3}, 0x4000, ta("203.0.113.1:7000"), 500), WriteResult::not_found);
  EXPECT_EQ(w.remove_channel(AllocId{3}, 0x4000), WriteResult::not_found);
  // A slot past the table's end is no slot.
  EXPECT_EQ(w.add_allocation(AllocId{kSlots}, this->entry("198.51.100.1:40000", "192.0.2.10:50000")),
            WriteResult::not_found);

  this->add_v4(AllocId{3});
  EXPECT_EQ(w.remove_permission(AllocId{3}, ip("203.0.113.1")), WriteResult::not_found);
  EXPECT_EQ(w.remove_channel(AllocId{3}, 0x4000), WriteResult::not_found);
  EXPECT_FALSE(this->tables.permitted(AllocId{3}, ip("203.0.113.1"), kNow));
  EXPECT_FALSE(this->tables.channel_peer(AllocId{3}, 0x4000, kNow));
  // A peer of the other family was never permitted: not found, not unsupported.
  EXPECT_EQ(w.remove_permission(AllocId{3}, ip("2001:db8:9::1")), WriteResult::not_found);
  EXPECT_TRUE(this->tables.live(AllocId{3}, kNow));
}

// unsupported: an address these tables cannot relay. The call changes nothing.
TYPED_TEST(TableWriterContract, UnsupportedIsAnAddressTheTablesCannotRelay) {
  TableWriter& w = this->w();
  // A relayed address that is not one of ours.
  EXPECT_EQ(w.add_allocation(AllocId{1}, this->entry("198.51.100.1:40000", "192.0.2.99:50000")), WriteResult::unsupported);
  EXPECT_EQ(w.add_allocation(AllocId{1}, this->entry("198.51.100.1:40000", "[2001:db8::99]:50000")), WriteResult::unsupported);
  // A 5-tuple whose two sides are of two families.
  EXPECT_EQ(w.add_allocation(AllocId{1}, this->entry("[2001:db8:5::1]:40000", "192.0.2.10:50000", "192.0.2.1:3478")),
            WriteResult::unsupported);
  EXPECT_FALSE(this->tables.live(AllocId{1}, kNow));

  // RFC 8656 §9.1, §12.1: a peer of the other family than the relayed address (IPv4-mapped is IPv4).
  this->add_v4(AllocId{2});
  EXPECT_EQ(w.set_permission(AllocId{2}, ip("2001:db8:9::1"), 500), WriteResult::unsupported);
  EXPECT_EQ(w.set_channel(AllocId{2}, 0x4000, ta("[2001:db8:9::1]:7000"), 500), WriteResult::unsupported);
  EXPECT_FALSE(this->tables.channel_peer(AllocId{2}, 0x4000, kNow));
  this->add_v6(AllocId{3});
  EXPECT_EQ(w.set_permission(AllocId{3}, ip("203.0.113.1"), 500), WriteResult::unsupported);
  EXPECT_EQ(w.set_permission(AllocId{3}, ip("::ffff:203.0.113.1"), 500), WriteResult::unsupported);
  EXPECT_EQ(w.set_channel(AllocId{3}, 0x4000, ta("203.0.113.1:7000"), 500), WriteResult::unsupported);
  EXPECT_FALSE(this->tables.permitted(AllocId{3}, ip("203.0.113.1"), kNow));

  // Tables made without IPv6 take neither an IPv6 client nor an IPv6 relayed address.
  TypeParam v4_only(false);
  ASSERT_TRUE(v4_only.made());
  TableWriter& w4 = v4_only.writer();
  EXPECT_EQ(w4.add_allocation(AllocId{1}, this->entry("198.51.100.1:40000", "[2001:db8::10]:50000")),
            WriteResult::unsupported);
  EXPECT_EQ(w4.add_allocation(AllocId{1}, this->entry("[2001:db8:5::1]:40000", "192.0.2.10:50000", "[2001:db8::1]:3478")),
            WriteResult::unsupported);
  EXPECT_FALSE(v4_only.live(AllocId{1}, kNow));
  EXPECT_EQ(w4.add_allocation(AllocId{1}, this->entry("198.51.100.1:40000", "192.0.2.10:50000")), WriteResult::ok);
}

// IPv6 relays, and IPv6 clients relayed over either family.
TYPED_TEST(TableWriterContract, Ipv6RelaysAndClients) {
  TableWriter& w = this->w();
  ASSERT_EQ(w.add_allocation(AllocId{1}, this->entry("[2001:db8:5::1]:40000", "[2001:db8::10]:50000", "[2001:db8::1]:3478")),
            WriteResult::ok);
  ASSERT_EQ(w.add_allocation(AllocId{2}, this->entry("[2001:db8:5::1]:40001", "192.0.2.10:50001", "[2001:db8::1]:3478")),
            WriteResult::ok);
  ASSERT_EQ(w.add_allocation(AllocId{3}, this->entry("198.51.100.1:40002", "[2001:db8::10]:50002")), WriteResult::ok);
  for (const uint32_t id : {1u, 2u, 3u}) EXPECT_TRUE(this->tables.live(AllocId{id}, kNow)) << id;
  ASSERT_EQ(w.set_allocation_expiry(AllocId{1}, 50), WriteResult::ok);
  EXPECT_FALSE(this->tables.live(AllocId{1}, kNow));
  ASSERT_EQ(w.remove_allocation(AllocId{3}), WriteResult::ok);
  EXPECT_FALSE(this->tables.live(AllocId{3}, kNow));
}

// The relayed transport address is one allocation's: another slot cannot publish it.
TYPED_TEST(TableWriterContract, ARelayedAddressInUseIsNoRoom) {
  TableWriter& w = this->w();
  this->add_v4(AllocId{1});
  EXPECT_EQ(w.add_allocation(AllocId{2}, this->entry("198.51.100.2:40000", "192.0.2.10:50000")), WriteResult::no_room);
  EXPECT_FALSE(this->tables.live(AllocId{2}, kNow));
  // The same port on another relay address is another relayed address.
  EXPECT_EQ(w.add_allocation(AllocId{2}, this->entry("198.51.100.2:40000", "192.0.2.11:50000")), WriteResult::ok);
  this->add_v6(AllocId{3});
  EXPECT_EQ(w.add_allocation(AllocId{4}, this->entry("198.51.100.2:40001", "[2001:db8::10]:50000")), WriteResult::no_room);
}

// RFC 8656 §9: a permission is per peer IP address; adding one that exists refreshes it.
TYPED_TEST(TableWriterContract, PermissionsOfBothFamilies) {
  TableWriter& w = this->w();
  this->add_v4(AllocId{1});
  this->add_v6(AllocId{2});
  struct Family {
    AllocId id;
    std::string prefix;
  };
  for (const Family& f : {Family{AllocId{1}, "203.0.113."}, Family{AllocId{2}, "2001:db8:9::"}}) {
    SCOPED_TRACE(f.prefix);
    const auto peer = [&](int n) { return ip((f.prefix + std::to_string(n)).c_str()); };
    // More than any inline set holds.
    for (int n = 1; n <= 12; ++n) ASSERT_EQ(w.set_permission(f.id, peer(n), 400 + n), WriteResult::ok) << n;
    for (int n = 1; n <= 12; ++n) {
      EXPECT_TRUE(this->tables.permitted(f.id, peer(n), kNow)) << n;
      EXPECT_TRUE(this->tables.permitted(f.id, peer(n), 399 + n)) << n;
      EXPECT_FALSE(this->tables.permitted(f.id, peer(n), 400 + n)) << n;  // expired
    }
    EXPECT_FALSE(this->tables.permitted(f.id, peer(99), kNow));
    // RFC 8656 §9.2: refreshed, inline and beyond.
    ASSERT_EQ(w.set_permission(f.id, peer(1), 1000), WriteResult::ok);
    ASSERT_EQ(w.set_permission(f.id, peer(12), 1000), WriteResult::ok);
    EXPECT_TRUE(this->tables.permitted(f.id, peer(1), 999));
    EXPECT_TRUE(this->tables.permitted(f.id, peer(12), 999));
    for (int n : {1, 12}) {
      ASSERT_EQ(w.remove_permission(f.id, peer(n)), WriteResult::ok);
      EXPECT_FALSE(this->tables.permitted(f.id, peer(n), kNow));
      EXPECT_EQ(w.remove_permission(f.id, peer(n)), WriteResult::not_found);
    }
    EXPECT_TRUE(this->tables.permitted(f.id, peer(6), kNow));
  }
  // One allocation's permissions are not another's.
  EXPECT_FALSE(this->tables.permitted(AllocId{2}, ip("203.0.113.2"), kNow));
  EXPECT_FALSE(this->tables.permitted(AllocId{1}, ip("2001:db8:9::2"), kNow));
}

// An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) is the IPv4 peer a.b.c.d, both ways.
TYPED_TEST(TableWriterContract, Ipv4MappedPeersAreIpv4Peers) {
  TableWriter& w = this->w();
  this->add_v4(AllocId{1});
  ASSERT_EQ(w.set_permission(AllocId{1}, ip("::ffff:203.0.113.7"), 500), WriteResult::ok);
  EXPECT_TRUE(this->tables.permitted(AllocId{1}, ip("203.0.113.7"), kNow));
  ASSERT_EQ(w.set_permission(AllocId{1}, ip("203.0.113.7"), 900), WriteResult::ok);  // the same permission
  EXPECT_TRUE(this->tables.permitted(AllocId{1}, ip("::ffff:203.0.113.7"), 800));
  ASSERT_EQ(w.remove_permission(AllocId{1}, ip("::ffff:203.0.113.7")), WriteResult::ok);
  EXPECT_FALSE(this->tables.permitted(AllocId{1}, ip("203.0.113.7"), kNow));
  EXPECT_EQ(w.remove_permission(AllocId{1}, ip("203.0.113.7")), WriteResult::not_found);

  ASSERT_EQ(w.set_channel(AllocId{1}, 0x4001, ta("[::ffff:203.0.113.8]:7000"), 500), WriteResult::ok);
  EXPECT_EQ(this->tables.channel_peer(AllocId{1}, 0x4001, kNow), ta("203.0.113.8:7000"));
  EXPECT_EQ(this->tables.channel_of_peer(AllocId{1}, ta("203.0.113.8:7000"), kNow), 0x4001);
  // Refreshed under its IPv4 form, it is the same binding.
  ASSERT_EQ(w.set_channel(AllocId{1}, 0x4001, ta("203.0.113.8:7000"), 900), WriteResult::ok);
  EXPECT_EQ(this->tables.channel_peer(AllocId{1}, 0x4001, 800), ta("203.0.113.8:7000"));
}

// RFC 8656 §12: channel <-> peer transport address, both directions, refreshed by binding again.
TYPED_TEST(TableWriterContract, ChannelsOfBothFamilies) {
  TableWriter& w = this->w();
  this->add_v4(AllocId{1});
  this->add_v6(AllocId{2});
  struct Family {
    AllocId id;
    std::string before, after;  // a peer: before + its number + after
  };
  for (const Family& f : {Family{AllocId{1}, "203.0.113.", ":7000"}, Family{AllocId{2}, "[2001:db8:9::", "]:7000"}}) {
    SCOPED_TRACE(f.before);
    const auto peer = [&](int n) { return ta((f.before + std::to_string(n) + f.after).c_str()); };
    const auto channel = [](int n) { return static_cast<uint16_t>(0x4000 + n); };
    // Beyond any inline set, within every pool.
    for (int n = 1; n <= 6; ++n) ASSERT_EQ(w.set_channel(f.id, channel(n), peer(n), 400 + n), WriteResult::ok) << n;
    for (int n = 1; n <= 6; ++n) {
      EXPECT_EQ(this->tables.channel_peer(f.id, channel(n), kNow), peer(n)) << n;
      EXPECT_EQ(this->tables.channel_of_peer(f.id, peer(n), kNow), channel(n)) << n;
      EXPECT_FALSE(this->tables.channel_peer(f.id, channel(n), 400 + n)) << n;  // expired
      EXPECT_EQ(this->tables.channel_of_peer(f.id, peer(n), 400 + n), 0) << n;
    }
    EXPECT_FALSE(this->tables.channel_peer(f.id, channel(50), kNow));
    EXPECT_EQ(this->tables.channel_of_peer(f.id, peer(50), kNow), 0);
    // RFC 8656 §12.2: a bound channel is refreshed with the same peer, and refused another.
    ASSERT_EQ(w.set_channel(f.id, channel(1), peer(1), 1000), WriteResult::ok);
    ASSERT_EQ(w.set_channel(f.id, channel(6), peer(6), 1000), WriteResult::ok);
    EXPECT_EQ(this->tables.channel_peer(f.id, channel(1), 999), peer(1));
    EXPECT_EQ(this->tables.channel_peer(f.id, channel(6), 999), peer(6));
    EXPECT_EQ(w.set_channel(f.id, channel(1), peer(9), 1000), WriteResult::not_found);
    EXPECT_EQ(w.set_channel(f.id, channel(6), peer(9), 1000), WriteResult::not_found);
    EXPECT_EQ(this->tables.channel_peer(f.id, channel(1), kNow), peer(1));
    for (int n : {1, 6}) {
      ASSERT_EQ(w.remove_channel(f.id, channel(n)), WriteResult::ok);
      EXPECT_FALSE(this->tables.channel_peer(f.id, channel(n), kNow));
      EXPECT_EQ(this->tables.channel_of_peer(f.id, peer(n), kNow), 0);
      EXPECT_EQ(w.remove_channel(f.id, channel(n)), WriteResult::not_found);
    }
    EXPECT_EQ(this->tables.channel_peer(f.id, channel(3), kNow), peer(3));
  }
}

// Removing an allocation takes its permissions and channels with it; its slot comes back from
// reclaimed() only after the grace period, and then carries nothing of the old allocation.
TYPED_TEST(TableWriterContract, ReclaimedOnlyAfterTheGracePeriod) {
  TableWriter& w = this->w();
  this->add_v4(AllocId{1});
  this->add_v6(AllocId{2});
  ASSERT_EQ(w.add_allocation(AllocId{3}, this->entry("198.51.100.1:40003", "192.0.2.11:50003")), WriteResult::ok);
  for (int n = 1; n <= 8; ++n) {
    ASSERT_EQ(w.set_permission(AllocId{1}, ip(("203.0.113." + std::to_string(n)).c_str()), 500), WriteResult::ok);
    ASSERT_EQ(w.set_permission(AllocId{2}, ip(("2001:db8:9::" + std::to_string(n)).c_str()), 500), WriteResult::ok);
  }
  ASSERT_EQ(w.set_channel(AllocId{1}, 0x4001, ta("203.0.113.1:7000"), 500), WriteResult::ok);
  ASSERT_EQ(w.set_channel(AllocId{2}, 0x4001, ta("[2001:db8:9::1]:7000"), 500), WriteResult::ok);
  EXPECT_TRUE(this->reclaim().empty());  // nothing removed yet

  ASSERT_EQ(w.remove_allocation(AllocId{1}), WriteResult::ok);
  ASSERT_EQ(w.remove_allocation(AllocId{2}), WriteResult::ok);
  EXPECT_FALSE(this->tables.permitted(AllocId{1}, ip("203.0.113.1"), kNow));
  EXPECT_FALSE(this->tables.permitted(AllocId{2}, ip("2001:db8:9::1"), kNow));
  EXPECT_FALSE(this->tables.channel_peer(AllocId{1}, 0x4001, kNow));
  EXPECT_FALSE(this->tables.channel_peer(AllocId{2}, 0x4001, kNow));
  EXPECT_EQ(w.remove_permission(AllocId{1}, ip("203.0.113.2")), WriteResult::not_found);
  EXPECT_EQ(w.remove_channel(AllocId{2}, 0x4001), WriteResult::not_found);
  EXPECT_TRUE(this->reclaim().empty());  // a reader may still see them

  this->tables.end_grace_period();
  // Handed back as many at a time as the caller has room for, each once.
  AllocId one[1] = {kNoAllocation};
  ASSERT_EQ(w.reclaimed(one), 1u);
  std::set<AllocId> back = {one[0]};
  for (const AllocId id : this->reclaim()) EXPECT_TRUE(back.insert(id).second) << slot_index(id);
  EXPECT_EQ(back, (std::set<AllocId>{AllocId{1}, AllocId{2}}));
  EXPECT_TRUE(this->reclaim().empty());
  EXPECT_TRUE(this->tables.live(AllocId{3}, kNow));

  // Reused, for another client and with the relayed address of another family.
  ASSERT_EQ(w.add_allocation(AllocId{1}, this->entry("198.51.100.9:40000", "[2001:db8::10]:50001")), WriteResult::ok);
  ASSERT_EQ(w.add_allocation(AllocId{2}, this->entry("198.51.100.9:40001", "192.0.2.10:50001")), WriteResult::ok);
  EXPECT_FALSE(this->tables.permitted(AllocId{2}, ip("203.0.113.1"), kNow));
  EXPECT_FALSE(this->tables.permitted(AllocId{1}, ip("2001:db8:9::1"), kNow));
  EXPECT_FALSE(this->tables.channel_peer(AllocId{1}, 0x4001, kNow));
  EXPECT_FALSE(this->tables.channel_peer(AllocId{2}, 0x4001, kNow));
}

// no_room: the sets are full (answered 508). It changes nothing: what was in stays in and can be
// refreshed, what was refused is not there. Space a removal frees is free again once the grace
// period has passed and the control plane's next reclaimed() has run.
TYPED_TEST(TableWriterContract, PermissionsRunOutThenComeBack) {
  TableWriter& w = this->w();
  this->add_v4(AllocId{1});
  this->add_v6(AllocId{2});
  for (const AllocId id : {AllocId{1}, AllocId{2}}) {
    const bool v6 = id == AllocId{2};
    SCOPED_TRACE(v6 ? "IPv6 peers" : "IPv4 peers");
    const auto peer = [v6](uint32_t n) {
      return v6 ? ip(("2001:db8:9::" + std::to_string(n)).c_str())
                : IpAddress::v4(0xcb000000u + n);  // 203.0.0.0/8
    };
    uint32_t accepted = 0;
    WriteResult last = WriteResult::ok;
    while (accepted < 4096 && (last = w.set_permission(id, peer(accepted + 1), 500)) == WriteResult::ok) ++accepted;
    ASSERT_EQ(last, WriteResult::no_room) << "after " << accepted;
    ASSERT_GE(accepted, 8u);
    const IpAddress refused = peer(accepted + 1);
    EXPECT_FALSE(this->tables.permitted(id, refused, kNow));
    EXPECT_EQ(w.set_permission(id, refused, 500), WriteResult::no_room);
    for (uint32_t n = 1; n <= accepted; ++n) ASSERT_TRUE(this->tables.permitted(id, peer(n), kNow)) << n;
    ASSERT_EQ(w.set_permission(id, peer(1), 900), WriteResult::ok);
    ASSERT_EQ(w.set_permission(id, peer(accepted), 900), WriteResult::ok);
    EXPECT_TRUE(this->tables.permitted(id, peer(accepted), 800));

    ASSERT_EQ(w.remove_permission(id, peer(accepted)), WriteResult::ok);
    this->tables.end_grace_period();
    this->reclaim();
    ASSERT_EQ(w.set_permission(id, refused, 500), WriteResult::ok);
    EXPECT_TRUE(this->tables.permitted(id, refused, kNow));
    // Make room for the other family's turn: sets may share their space between allocations.
    for (uint32_t n = 1; n < accepted; ++n) ASSERT_EQ(w.remove_permission(id, peer(n)), WriteResult::ok) << n;
    ASSERT_EQ(w.remove_permission(id, refused), WriteResult::ok);
    this->tables.end_grace_period();
    this->reclaim();
  }
}

TYPED_TEST(TableWriterContract, ChannelsRunOutThenComeBack) {
  TableWriter& w = this->w();
  this->add_v4(AllocId{1});
  this->add_v6(AllocId{2});
  for (const AllocId id : {AllocId{1}, AllocId{2}}) {
    const bool v6 = id == AllocId{2};
    SCOPED_TRACE(v6 ? "IPv6 peers" : "IPv4 peers");
    const auto peer = [v6](uint16_t n) {
      return v6 ? TransportAddress{ip("2001:db8:9::1"), Port{n}} : TransportAddress{ip("203.0.113.1"), Port{n}};
    };
    const auto channel = [](uint16_t n) { return static_cast<uint16_t>(0x4000 + n); };
    uint16_t accepted = 0;
    WriteResult last = WriteResult::ok;
    // RFC 8656 §12: 0x4000 through 0x4FFF.
    while (accepted < 4095 && (last = w.set_channel(id, channel(accepted), peer(accepted + 1000), 500)) == WriteResult::ok)
      ++accepted;
    ASSERT_EQ(last, WriteResult::no_room) << "after " << accepted;
    ASSERT_GE(accepted, 4u);
    const uint16_t refused = accepted;
    EXPECT_FALSE(this->tables.channel_peer(id, channel(refused), kNow));
    EXPECT_EQ(this->tables.channel_of_peer(id, peer(refused + 1000), kNow), 0);
    for (uint16_t n = 0; n < accepted; ++n) ASSERT_EQ(this->tables.channel_peer(id, channel(n), kNow), peer(n + 1000)) << n;
    ASSERT_EQ(w.set_channel(id, channel(0), peer(1000), 900), WriteResult::ok);
    ASSERT_EQ(w.set_channel(id, channel(accepted - 1), peer(accepted - 1 + 1000), 900), WriteResult::ok);
    EXPECT_EQ(this->tables.channel_peer(id, channel(accepted - 1), 800), peer(accepted - 1 + 1000));

    ASSERT_EQ(w.remove_channel(id, channel(accepted - 1)), WriteResult::ok);
    this->tables.end_grace_period();
    this->reclaim();
    ASSERT_EQ(w.set_channel(id, channel(refused), peer(refused + 1000), 500), WriteResult::ok);
    EXPECT_EQ(this->tables.channel_peer(id, channel(refused), kNow), peer(refused + 1000));
    for (uint16_t n = 0; n + 1 < accepted; ++n) ASSERT_EQ(w.remove_channel(id, channel(n)), WriteResult::ok) << n;
    ASSERT_EQ(w.remove_channel(id, channel(refused)), WriteResult::ok);
    this->tables.end_grace_period();
    this->reclaim();
  }
}

}  // namespace
}  // namespace tern::dp
