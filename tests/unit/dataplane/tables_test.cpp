#include "dataplane/tables/rcu_writer.hpp"
#include "dataplane/tables/tables.hpp"

#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_malloc.h>

#include <vector>

namespace tern::dp {
namespace {

uint32_t be(const char* ip) { return rte_cpu_to_be_32(IpAddress::parse(ip)->v4_host_order()); }
uint16_t be16(uint16_t v) { return rte_cpu_to_be_16(v); }
TransportAddress ta(const char* text) { return *TransportAddress::parse(text); }
TransportAddress peer(uint8_t last_octet, uint16_t port) {
  return TransportAddress{IpAddress::v4(203, 0, 113, last_octet), Port{port}};
}

constexpr TableTime kNow = 100;

class TablesTest : public testing::Test {
 protected:
  void SetUp() override { make(nullptr); }
  void TearDown() override {
    writer_.reset();
    tables_.reset();
    if (rcu_ != nullptr) rte_free(rcu_);
  }

  void make(rte_rcu_qsbr* rcu, uint32_t capacity = 1024, uint32_t overflow = 1024, bool ipv6 = false) {
    static int serial = 0;
    writer_.reset();
    writer_.reset();
    tables_.reset();
    TablesConfig config;
    config.name = "t" + std::to_string(serial++);
    config.capacity = capacity;
    config.relay_ips = {be("10.90.0.1"), be("10.90.0.2")};
    if (ipv6) config.relay_ips6 = {Ip6::of(*IpAddress::parse("2001:db8:1::1"))};
    config.permission_overflow = overflow;
    config.channel_overflow = overflow;
    config.rcu = rcu;
    std::string error;
    tables_ = Tables::create(config, error);
    ASSERT_TRUE(tables_) << error;
    writer_ = RcuTableWriter::create(*tables_, config, error);
    ASSERT_TRUE(writer_) << error;
  }

  AllocationEntry entry(const char* client, const char* relayed, TableTime expires = 700) {
    AllocationEntry e;
    e.five_tuple = {ta(client), ta("10.90.0.1:3478"), Transport::udp};
    e.relayed = ta(relayed);
    e.expires = expires;
    return e;
  }

  TableWriter& w() { return *writer_; }
  const AllocationSlot& slot(AllocId id) { return tables_->slot(id); }

  std::unique_ptr<Tables> tables_;
  std::unique_ptr<RcuTableWriter> writer_;
  rte_rcu_qsbr* rcu_ = nullptr;
};

TEST_F(TablesTest, PublishedAllocationIsFoundByClientAndByRelay) {
  ASSERT_EQ(w().add_allocation(AllocId{7}, entry("10.90.0.10:5000", "10.90.0.2:50000")), WriteResult::ok);
  const auto key = make_client_key(be("10.90.0.10"), be16(5000), be("10.90.0.1"), be16(3478));
  EXPECT_EQ(tables_->find_client(key), AllocId{7});
  EXPECT_EQ(tables_->relay_index_of(be("10.90.0.2")), 1);
  EXPECT_EQ(tables_->relay_index_of(be("10.90.0.3")), -1);
  EXPECT_EQ(tables_->find_relay(1, be16(50000)), AllocId{7});
  EXPECT_EQ(tables_->find_relay(0, be16(50000)), kNoAllocation);
  EXPECT_TRUE(Tables::live(slot(AllocId{7}), kNow));
  EXPECT_FALSE(Tables::live(slot(AllocId{7}), 700));
  EXPECT_EQ(slot(AllocId{7}).relay_port, be16(50000));
  EXPECT_EQ(slot(AllocId{7}).client_ip, be("10.90.0.10"));

  const auto other = make_client_key(be("10.90.0.10"), be16(5001), be("10.90.0.1"), be16(3478));
  EXPECT_EQ(tables_->find_client(other), kNoAllocation);
}

TEST_F(TablesTest, BulkLookupMatchesSingleLookups) {
  std::vector<ClientKey> keys;
  for (uint16_t i = 0; i < 40; ++i) {
    if (i % 3 != 0) {
      const std::string client = "10.90.0.10:" + std::to_string(6000 + i);
      const std::string relayed = "10.90.0.1:" + std::to_string(50000 + i);
      ASSERT_EQ(w().add_allocation(AllocId{i}, entry(client.c_str(), relayed.c_str())), WriteResult::ok);
    }
    keys.push_back(make_client_key(be("10.90.0.10"), be16(6000 + i), be("10.90.0.1"), be16(3478)));
  }
  std::vector<const ClientKey*> pointers;
  for (const auto& k : keys) pointers.push_back(&k);
  AllocId out[40];
  tables_->find_clients(pointers.data(), 40, out);
  for (unsigned i = 0; i < 40; ++i) {
    EXPECT_EQ(out[i], tables_->find_client(keys[i])) << i;
    EXPECT_EQ(out[i], i % 3 == 0 ? kNoAllocation : AllocId{i}) << i;
  }
}

TEST_F(TablesTest, ExpiryAndRefresh) {
  ASSERT_EQ(w().add_allocation(AllocId{1}, entry("10.90.0.10:5000", "10.90.0.1:50000", 200)), WriteResult::ok);
  EXPECT_TRUE(Tables::live(slot(AllocId{1}), 199));
  EXPECT_FALSE(Tables::live(slot(AllocId{1}), 200));
  ASSERT_EQ(w().set_allocation_expiry(AllocId{1}, 900), WriteResult::ok);
  EXPECT_TRUE(Tables::live(slot(AllocId{1}), 899));
  EXPECT_EQ(w().set_allocation_expiry(AllocId{2}, 900), WriteResult::not_found);
}

TEST_F(TablesTest, PermissionsInlineThenOverflow) {
  ASSERT_EQ(w().add_allocation(AllocId{3}, entry("10.90.0.10:5000", "10.90.0.1:50000")), WriteResult::ok);
  // Twice the inline capacity: the rest spill into the overflow hash.
  for (unsigned i = 0; i < 2 * kInlinePermissions; ++i) {
    const auto peer = IpAddress::v4(198, 51, 100, static_cast<uint8_t>(i + 1));
    ASSERT_EQ(w().set_permission(AllocId{3}, peer, 400 + i), WriteResult::ok);
  }
  EXPECT_TRUE(slot(AllocId{3}).flags.load() & kPermissionOverflow);
  for (unsigned i = 0; i < 2 * kInlinePermissions; ++i) {
    const uint32_t peer = rte_cpu_to_be_32(IpAddress::v4(198, 51, 100, i + 1).v4_host_order());
    EXPECT_TRUE(tables_->permitted(AllocId{3}, slot(AllocId{3}), peer, kNow)) << i;
    EXPECT_FALSE(tables_->permitted(AllocId{3}, slot(AllocId{3}), peer, 400 + i)) << i;  // expired
  }
  EXPECT_FALSE(tables_->permitted(AllocId{3}, slot(AllocId{3}), be("198.51.100.99"), kNow));

  // Refresh one inline and one overflow permission.
  ASSERT_EQ(w().set_permission(AllocId{3}, IpAddress::v4(198, 51, 100, 1), 1000), WriteResult::ok);
  ASSERT_EQ(w().set_permission(AllocId{3}, IpAddress::v4(198, 51, 100, 10), 1000), WriteResult::ok);
  EXPECT_TRUE(tables_->permitted(AllocId{3}, slot(AllocId{3}), be("198.51.100.1"), 999));
  EXPECT_TRUE(tables_->permitted(AllocId{3}, slot(AllocId{3}), be("198.51.100.10"), 999));

  // Removing every overflow permission clears the overflow flag.
  for (unsigned i = kInlinePermissions; i < 2 * kInlinePermissions; ++i)
    ASSERT_EQ(w().remove_permission(AllocId{3}, IpAddress::v4(198, 51, 100, i + 1)), WriteResult::ok);
  EXPECT_FALSE(slot(AllocId{3}).flags.load() & kPermissionOverflow);
  EXPECT_FALSE(tables_->permitted(AllocId{3}, slot(AllocId{3}), be("198.51.100.10"), kNow));
  EXPECT_TRUE(tables_->permitted(AllocId{3}, slot(AllocId{3}), be("198.51.100.1"), kNow));
  EXPECT_EQ(w().remove_permission(AllocId{3}, IpAddress::v4(198, 51, 100, 10)), WriteResult::not_found);
}

TEST_F(TablesTest, IpV4MappedPeerIsTheSameAsIpV4) {
  ASSERT_EQ(w().add_allocation(AllocId{3}, entry("10.90.0.10:5000", "10.90.0.1:50000")), WriteResult::ok);
  ASSERT_EQ(w().set_permission(AllocId{3}, *IpAddress::parse("::ffff:198.51.100.7"), 500), WriteResult::ok);
  EXPECT_TRUE(tables_->permitted(AllocId{3}, slot(AllocId{3}), be("198.51.100.7"), kNow));
  EXPECT_EQ(w().set_permission(AllocId{3}, *IpAddress::parse("2001:db8::1"), 500), WriteResult::unsupported);
}

TEST_F(TablesTest, ChannelsBothDirectionsInlineThenOverflow) {
  ASSERT_EQ(w().add_allocation(AllocId{4}, entry("10.90.0.10:5000", "10.90.0.1:50000")), WriteResult::ok);
  const unsigned n = kInlineChannels * 3;
  for (unsigned i = 0; i < n; ++i) {
    ASSERT_EQ(w().set_channel(AllocId{4}, static_cast<uint16_t>(0x4000 + i), peer(5, static_cast<uint16_t>(7000 + i)), 600),
              WriteResult::ok) << i;
  }
  EXPECT_TRUE(slot(AllocId{4}).flags.load() & kChannelOverflow);
  for (unsigned i = 0; i < n; ++i) {
    uint32_t ip = 0;
    uint16_t port = 0;
    ASSERT_TRUE(tables_->channel_peer(AllocId{4}, slot(AllocId{4}), static_cast<uint16_t>(0x4000 + i), kNow, ip, port)) << i;
    EXPECT_EQ(ip, be("203.0.113.5"));
    EXPECT_EQ(port, be16(static_cast<uint16_t>(7000 + i)));
    EXPECT_EQ(tables_->channel_of_peer(AllocId{4}, slot(AllocId{4}), be("203.0.113.5"), be16(7000 + i), kNow), 0x4000 + i);
    EXPECT_EQ(tables_->channel_of_peer(AllocId{4}, slot(AllocId{4}), be("203.0.113.5"), be16(7000 + i), 600), 0);
  }
  uint32_t ip = 0;
  uint16_t port = 0;
  EXPECT_FALSE(tables_->channel_peer(AllocId{4}, slot(AllocId{4}), 0x4fff, kNow, ip, port));
  EXPECT_EQ(tables_->channel_of_peer(AllocId{4}, slot(AllocId{4}), be("203.0.113.6"), be16(7000), kNow), 0);

  // A channel cannot be bound to a second peer while bound (RFC 8656 §12.2).
  EXPECT_EQ(w().set_channel(AllocId{4}, 0x4000, ta("203.0.113.5:9999"), 600), WriteResult::not_found);
  // Refresh keeps the binding.
  ASSERT_EQ(w().set_channel(AllocId{4}, 0x4000, ta("203.0.113.5:7000"), 1200), WriteResult::ok);
  EXPECT_TRUE(tables_->channel_peer(AllocId{4}, slot(AllocId{4}), 0x4000, 1100, ip, port));
  const uint16_t last = static_cast<uint16_t>(0x4000 + n - 1);
  ASSERT_EQ(w().set_channel(AllocId{4}, last, peer(5, static_cast<uint16_t>(7000 + n - 1)), 1200), WriteResult::ok);
  EXPECT_TRUE(tables_->channel_peer(AllocId{4}, slot(AllocId{4}), last, 1100, ip, port));

  // Removal, inline and overflow.
  ASSERT_EQ(w().remove_channel(AllocId{4}, 0x4000), WriteResult::ok);
  ASSERT_EQ(w().remove_channel(AllocId{4}, last), WriteResult::ok);
  EXPECT_FALSE(tables_->channel_peer(AllocId{4}, slot(AllocId{4}), 0x4000, kNow, ip, port));
  EXPECT_FALSE(tables_->channel_peer(AllocId{4}, slot(AllocId{4}), last, kNow, ip, port));
  EXPECT_EQ(tables_->channel_of_peer(AllocId{4}, slot(AllocId{4}), be("203.0.113.5"), be16(7000), kNow), 0);
  EXPECT_EQ(w().remove_channel(AllocId{4}, 0x4000), WriteResult::not_found);
}

TEST_F(TablesTest, RemovedAllocationDisappearsAndIsReclaimed) {
  ASSERT_EQ(w().add_allocation(AllocId{9}, entry("10.90.0.10:5000", "10.90.0.1:50000")), WriteResult::ok);
  for (unsigned i = 0; i < 2 * kInlinePermissions; ++i)
    ASSERT_EQ(w().set_permission(AllocId{9}, IpAddress::v4(198, 51, 100, i + 1), 500), WriteResult::ok);
  for (unsigned i = 0; i < 2 * kInlineChannels; ++i)
    ASSERT_EQ(w().set_channel(AllocId{9}, 0x4000 + i, peer(1, static_cast<uint16_t>(1000 + i)), 500), WriteResult::ok);
  ASSERT_EQ(w().remove_allocation(AllocId{9}), WriteResult::ok);
  const auto key = make_client_key(be("10.90.0.10"), be16(5000), be("10.90.0.1"), be16(3478));
  EXPECT_EQ(tables_->find_client(key), kNoAllocation);
  EXPECT_EQ(tables_->find_relay(0, be16(50000)), kNoAllocation);
  EXPECT_FALSE(Tables::live(slot(AllocId{9}), kNow));
  EXPECT_FALSE(tables_->permitted(AllocId{9}, slot(AllocId{9}), be("198.51.100.9"), kNow));
  EXPECT_EQ(w().remove_allocation(AllocId{9}), WriteResult::not_found);

  AllocId out[4];
  ASSERT_EQ(w().reclaimed(out), 1u);
  EXPECT_EQ(out[0], AllocId{9});
  // The slot and the port can be used again, and carry nothing of the old allocation.
  ASSERT_EQ(w().add_allocation(AllocId{9}, entry("10.90.0.11:5000", "10.90.0.1:50000")), WriteResult::ok);
  EXPECT_FALSE(tables_->permitted(AllocId{9}, slot(AllocId{9}), be("198.51.100.1"), kNow));
  uint32_t ip = 0;
  uint16_t port = 0;
  EXPECT_FALSE(tables_->channel_peer(AllocId{9}, slot(AllocId{9}), 0x4000, kNow, ip, port));
  EXPECT_FALSE(slot(AllocId{9}).flags.load() & (kPermissionOverflow | kChannelOverflow));
}

TEST_F(TablesTest, RelayPortInUseIsRefused) {
  ASSERT_EQ(w().add_allocation(AllocId{1}, entry("10.90.0.10:5000", "10.90.0.1:50000")), WriteResult::ok);
  EXPECT_EQ(w().add_allocation(AllocId{2}, entry("10.90.0.10:5001", "10.90.0.1:50000")), WriteResult::no_room);
  const auto key = make_client_key(be("10.90.0.10"), be16(5001), be("10.90.0.1"), be16(3478));
  EXPECT_EQ(tables_->find_client(key), kNoAllocation);
  EXPECT_EQ(w().add_allocation(AllocId{1}, entry("10.90.0.10:5002", "10.90.0.1:50002")), WriteResult::not_found);
  EXPECT_EQ(w().add_allocation(AllocId{5}, entry("10.90.0.10:5003", "10.90.0.9:50002")), WriteResult::unsupported);
}

// The packet buckets (limits.allocation_pps, on by default) come with the first allocation, for
// every slot: a reload may change the rate for live allocations. The byte buckets (max_bps, off by
// default) only when asked for: a table that never limits bytes does not pay 16 bytes a slot for
// them. A slot's buckets start full again when it is published for another allocation.
TEST_F(TablesTest, RateBucketsComeWhenNeeded) {
  make(nullptr, 65536);
  rte_malloc_socket_stats before{};
  rte_malloc_socket_stats after{};
  ASSERT_EQ(rte_malloc_get_socket_stats(0, &before), 0);
  ASSERT_EQ(w().add_allocation(AllocId{1}, entry("10.90.0.10:5000", "10.90.0.1:50000")), WriteResult::ok);
  ASSERT_EQ(rte_malloc_get_socket_stats(0, &after), 0);
  const size_t made = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
  EXPECT_GE(made, sizeof(RateBuckets) * 65536);
  EXPECT_LT(made, 2 * sizeof(RateBuckets) * 65536);

  const uint64_t now = 1'000'000'000;
  const Rate packets = Rate::per_second(10, rte_get_tsc_hz());  // a bucket's depth: one, and the first
  EXPECT_TRUE(tables_->packet_buckets(AllocId{1}).take(Direction::to_peer, packets, 1, now));
  EXPECT_TRUE(tables_->packet_buckets(AllocId{1}).take(Direction::to_peer, packets, 1, now));
  EXPECT_FALSE(tables_->packet_buckets(AllocId{1}).take(Direction::to_peer, packets, 1, now));
  EXPECT_TRUE(tables_->packet_buckets(AllocId{1}).take(Direction::to_client, packets, 1, now));

  // Later ones share the buckets made for the first.
  ASSERT_EQ(w().add_allocation(AllocId{2}, entry("10.90.0.10:5002", "10.90.0.1:50004")), WriteResult::ok);
  EXPECT_EQ(&tables_->packet_buckets(AllocId{2}), &tables_->packet_buckets(AllocId{1}) + 1);

  // The byte buckets: every slot's, full, once made (live allocations included).
  ASSERT_EQ(rte_malloc_get_socket_stats(0, &before), 0);
  ASSERT_TRUE(writer_->make_byte_buckets());
  ASSERT_TRUE(writer_->make_byte_buckets());  // once
  ASSERT_EQ(rte_malloc_get_socket_stats(0, &after), 0);
  EXPECT_GE(after.heap_allocsz_bytes - before.heap_allocsz_bytes, sizeof(RateBuckets) * 65536);
  EXPECT_LT(after.heap_allocsz_bytes - before.heap_allocsz_bytes, 2 * sizeof(RateBuckets) * 65536);
  const Rate bytes = Rate::bits_per_second(8000, rte_get_tsc_hz());  // 100 bytes at once, and the first
  EXPECT_TRUE(tables_->byte_buckets(AllocId{2}).take(Direction::to_peer, bytes, 100, now));
  EXPECT_TRUE(tables_->byte_buckets(AllocId{2}).take(Direction::to_peer, bytes, 100, now));
  EXPECT_FALSE(tables_->byte_buckets(AllocId{2}).take(Direction::to_peer, bytes, 100, now));

  // The slot's next allocation starts with full buckets.
  ASSERT_EQ(w().remove_allocation(AllocId{1}), WriteResult::ok);
  AllocId reclaimed[4];
  ASSERT_EQ(w().reclaimed(reclaimed), 1u);
  EXPECT_TRUE(tables_->byte_buckets(AllocId{1}).take(Direction::to_peer, bytes, 150, now));
  ASSERT_EQ(w().add_allocation(AllocId{1}, entry("10.90.0.10:5004", "10.90.0.1:50006")), WriteResult::ok);
  EXPECT_TRUE(tables_->packet_buckets(AllocId{1}).take(Direction::to_peer, packets, 1, now));
  EXPECT_TRUE(tables_->packet_buckets(AllocId{1}).take(Direction::to_peer, packets, 1, now));
  EXPECT_FALSE(tables_->packet_buckets(AllocId{1}).take(Direction::to_peer, packets, 1, now));
  EXPECT_TRUE(tables_->byte_buckets(AllocId{1}).take(Direction::to_peer, bytes, 150, now));
}

TEST_F(TablesTest, OverflowPoolExhaustionIsNoRoom) {
  make(nullptr, 64, 8);
  ASSERT_EQ(w().add_allocation(AllocId{0}, entry("10.90.0.10:5000", "10.90.0.1:50000")), WriteResult::ok);
  WriteResult last = WriteResult::ok;
  unsigned bound = 0;
  for (unsigned i = 0; i < 4096 && last == WriteResult::ok; ++i) {
    last = w().set_channel(AllocId{0}, static_cast<uint16_t>(0x4000 + i), peer(1, static_cast<uint16_t>(1000 + i)), 500);
    if (last == WriteResult::ok) ++bound;
  }
  EXPECT_EQ(last, WriteResult::no_room);
  EXPECT_GE(bound, kInlineChannels + 8);
}

// With a reader registered on the RCU variable, nothing is reused until it reports quiescent.
TEST_F(TablesTest, ReuseWaitsForEveryReaderToPassAQuiescentState) {
  const size_t size = rte_rcu_qsbr_get_memsize(1);
  rcu_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("tern_test_rcu", size, 64));
  ASSERT_EQ(rte_rcu_qsbr_init(rcu_, 1), 0);
  ASSERT_EQ(rte_rcu_qsbr_thread_register(rcu_, 0), 0);
  rte_rcu_qsbr_thread_online(rcu_, 0);
  make(rcu_);

  ASSERT_EQ(w().add_allocation(AllocId{5}, entry("10.90.0.10:5000", "10.90.0.1:50000")), WriteResult::ok);
  ASSERT_EQ(w().set_channel(AllocId{5}, 0x4001, ta("198.51.100.1:1000"), 500), WriteResult::ok);
  ASSERT_EQ(w().remove_channel(AllocId{5}, 0x4001), WriteResult::ok);
  // The entry waits for the grace period: a new channel goes to another inline entry.
  for (unsigned i = 0; i < kInlineChannels - 1; ++i)
    ASSERT_EQ(w().set_channel(AllocId{5}, 0x4002 + i, peer(1, static_cast<uint16_t>(2000 + i)), 500), WriteResult::ok);
  ASSERT_EQ(w().set_channel(AllocId{5}, 0x4010, ta("198.51.100.1:3000"), 500), WriteResult::ok);
  EXPECT_TRUE(slot(AllocId{5}).flags.load() & kChannelOverflow);

  ASSERT_EQ(w().remove_allocation(AllocId{5}), WriteResult::ok);
  AllocId out[4];
  EXPECT_EQ(w().reclaimed(out), 0u);  // the reader has not been quiescent since
  rte_rcu_qsbr_quiescent(rcu_, 0);
  EXPECT_EQ(w().reclaimed(out), 1u);
  EXPECT_EQ(out[0], AllocId{5});
  rte_rcu_qsbr_thread_offline(rcu_, 0);
  rte_rcu_qsbr_thread_unregister(rcu_, 0);
}

// Carrier scale: a million allocations over sixteen relay addresses.
TEST_F(TablesTest, MillionAllocations) {
  TablesConfig config;
  config.name = "million";
  config.capacity = 1'000'000;
  for (uint32_t i = 0; i < 16; ++i) config.relay_ips.push_back(rte_cpu_to_be_32(0x0a5a0100u + i));
  std::string error;
  writer_.reset();
  tables_ = Tables::create(config, error);
  ASSERT_TRUE(tables_) << error;
  writer_ = RcuTableWriter::create(*tables_, config, error);
  ASSERT_TRUE(writer_) << error;
  const auto client = [](uint32_t n) { return 0x0b000000u + n; };  // 11.x.y.z
  for (uint32_t id = 0; id < config.capacity; ++id) {
    AllocationEntry e;
    e.five_tuple = {TransportAddress{IpAddress::v4(client(id)), Port{40000}}, ta("10.90.0.1:3478"), Transport::udp};
    e.relayed = TransportAddress{IpAddress::v4(0x0a5a0100u + id / 65536), Port{static_cast<uint16_t>(id % 65536)}};
    e.expires = 700;
    ASSERT_EQ(w().add_allocation(AllocId{id}, e), WriteResult::ok) << id;
  }
  for (uint32_t id : {0u, 65535u, 65536u, 999'999u}) {
    const auto key = make_client_key(rte_cpu_to_be_32(client(id)), be16(40000), be("10.90.0.1"), be16(3478));
    EXPECT_EQ(tables_->find_client(key), AllocId{id});
    EXPECT_EQ(tables_->find_relay(id / 65536, be16(static_cast<uint16_t>(id % 65536))), AllocId{id});
  }
}

// ---- IPv6 ----

Ip6 v6(const char* ip) { return Ip6::of(*IpAddress::parse(ip)); }

class Tables6Test : public TablesTest {
 protected:
  void SetUp() override { make(nullptr, 1024, 1024, true); }
  AllocationEntry entry6(const char* client, const char* server, const char* relayed) {
    AllocationEntry e;
    e.five_tuple = {ta(client), ta(server), Transport::udp};
    e.relayed = ta(relayed);
    e.expires = 700;
    return e;
  }
};

TEST_F(Tables6Test, Ipv6AllocationIsFoundByClientAndByRelay) {
  ASSERT_TRUE(tables_->ipv6());
  ASSERT_EQ(w().add_allocation(AllocId{7}, entry6("[2001:db8::10]:5000", "[2001:db8::1]:3478", "[2001:db8:1::1]:50000")),
            WriteResult::ok);
  const auto key = make_client_key(v6("2001:db8::10"), be16(5000), v6("2001:db8::1"), be16(3478));
  EXPECT_EQ(tables_->find_client(key), AllocId{7});
  const ClientKey6* keys[1] = {&key};
  AllocId ids[1];
  tables_->find_clients(keys, 1, ids);
  EXPECT_EQ(ids[0], AllocId{7});
  EXPECT_EQ(tables_->relay_index_of(v6("2001:db8:1::1")), 2);  // after the two IPv4 ones
  EXPECT_EQ(tables_->relay_index_of(v6("2001:db8:1::2")), -1);
  EXPECT_EQ(tables_->find_relay(2, be16(50000)), AllocId{7});
  EXPECT_EQ(slot(AllocId{7}).flags.load() & (kClientIpv6 | kRelayIpv6), kClientIpv6 | kRelayIpv6);
  EXPECT_EQ(tables_->slot6(AllocId{7}).client_ip, v6("2001:db8::10"));
  EXPECT_EQ(tables_->slot6(AllocId{7}).server_ip, v6("2001:db8::1"));
  EXPECT_EQ(tables_->slot6(AllocId{7}).relay_ip, v6("2001:db8:1::1"));
  EXPECT_EQ(slot(AllocId{7}).client_port, be16(5000));
  EXPECT_EQ(slot(AllocId{7}).relay_port, be16(50000));
}

// RFC 8656 §7.2: the relayed address's family may differ from the client's.
TEST_F(Tables6Test, EitherSideMayBeEitherFamily) {
  ASSERT_EQ(w().add_allocation(AllocId{1}, entry6("10.90.0.10:5000", "10.90.0.1:3478", "[2001:db8:1::1]:50001")),
            WriteResult::ok);
  EXPECT_EQ(slot(AllocId{1}).flags.load() & (kClientIpv6 | kRelayIpv6), kRelayIpv6);
  EXPECT_EQ(tables_->find_client(make_client_key(be("10.90.0.10"), be16(5000), be("10.90.0.1"), be16(3478))), AllocId{1});
  ASSERT_EQ(w().add_allocation(AllocId{2}, entry6("[2001:db8::10]:5000", "[2001:db8::1]:3478", "10.90.0.2:50002")),
            WriteResult::ok);
  EXPECT_EQ(slot(AllocId{2}).flags.load() & (kClientIpv6 | kRelayIpv6), kClientIpv6);
  EXPECT_EQ(tables_->find_relay(1, be16(50002)), AllocId{2});
  // A 5-tuple of two families, or a relayed address that is not ours, is refused.
  EXPECT_EQ(w().add_allocation(AllocId{3}, entry6("[2001:db8::10]:5001", "10.90.0.1:3478", "10.90.0.2:50003")),
            WriteResult::unsupported);
  EXPECT_EQ(w().add_allocation(AllocId{3}, entry6("10.90.0.10:5001", "10.90.0.1:3478", "[2001:db8:1::9]:50003")),
            WriteResult::unsupported);
}

TEST_F(Tables6Test, PermissionsAndChannelsOfIpv6Peers) {
  ASSERT_EQ(w().add_allocation(AllocId{5}, entry6("10.90.0.10:5000", "10.90.0.1:3478", "[2001:db8:1::1]:50000")),
            WriteResult::ok);
  const AllocationSlot& a = slot(AllocId{5});
  // RFC 8656 §9.1: the peers of an IPv6 relayed address are IPv6.
  EXPECT_EQ(w().set_permission(AllocId{5}, *IpAddress::parse("203.0.113.1"), 500), WriteResult::unsupported);
  EXPECT_EQ(w().set_channel(AllocId{5}, 0x4000, ta("203.0.113.1:7000"), 500), WriteResult::unsupported);
  for (unsigned i = 1; i <= 20; ++i) {
    const std::string peer = "2001:db8:9::" + std::to_string(i);
    ASSERT_EQ(w().set_permission(AllocId{5}, *IpAddress::parse(peer), 500), WriteResult::ok) << peer;
  }
  EXPECT_TRUE(tables_->permitted(AllocId{5}, a, v6("2001:db8:9::7"), kNow));
  EXPECT_FALSE(tables_->permitted(AllocId{5}, a, v6("2001:db8:9::77"), kNow));
  EXPECT_FALSE(tables_->permitted(AllocId{5}, a, v6("2001:db8:9::7"), 500));
  ASSERT_EQ(w().set_permission(AllocId{5}, *IpAddress::parse("2001:db8:9::7"), 900), WriteResult::ok);  // refresh
  EXPECT_TRUE(tables_->permitted(AllocId{5}, a, v6("2001:db8:9::7"), 800));
  ASSERT_EQ(w().remove_permission(AllocId{5}, *IpAddress::parse("2001:db8:9::7")), WriteResult::ok);
  EXPECT_FALSE(tables_->permitted(AllocId{5}, a, v6("2001:db8:9::7"), kNow));
  EXPECT_EQ(w().remove_permission(AllocId{5}, *IpAddress::parse("2001:db8:9::7")), WriteResult::not_found);

  ASSERT_EQ(w().set_channel(AllocId{5}, 0x4001, ta("[2001:db8:9::1]:7000"), 500), WriteResult::ok);
  ASSERT_EQ(w().set_channel(AllocId{5}, 0x4002, ta("[2001:db8:9::2]:7000"), 500), WriteResult::ok);
  Ip6 ip{};
  uint16_t port = 0;
  ASSERT_TRUE(tables_->channel_peer(AllocId{5}, a, 0x4002, kNow, ip, port));
  EXPECT_EQ(ip, v6("2001:db8:9::2"));
  EXPECT_EQ(port, be16(7000));
  EXPECT_FALSE(tables_->channel_peer(AllocId{5}, a, 0x4003, kNow, ip, port));
  EXPECT_FALSE(tables_->channel_peer(AllocId{5}, a, 0x4002, 500, ip, port));  // expired
  EXPECT_EQ(tables_->channel_of_peer(AllocId{5}, a, v6("2001:db8:9::1"), be16(7000), kNow), 0x4001);
  EXPECT_EQ(tables_->channel_of_peer(AllocId{5}, a, v6("2001:db8:9::1"), be16(7001), kNow), 0);
  // Refreshing names the same peer; another one is refused.
  EXPECT_EQ(w().set_channel(AllocId{5}, 0x4001, ta("[2001:db8:9::1]:7000"), 900), WriteResult::ok);
  EXPECT_EQ(tables_->channel_of_peer(AllocId{5}, a, v6("2001:db8:9::1"), be16(7000), 800), 0x4001);
  EXPECT_EQ(w().set_channel(AllocId{5}, 0x4001, ta("[2001:db8:9::3]:7000"), 900), WriteResult::not_found);
  ASSERT_EQ(w().remove_channel(AllocId{5}, 0x4001), WriteResult::ok);
  EXPECT_EQ(tables_->channel_of_peer(AllocId{5}, a, v6("2001:db8:9::1"), be16(7000), kNow), 0);
  EXPECT_EQ(w().remove_channel(AllocId{5}, 0x4001), WriteResult::not_found);
}

TEST_F(Tables6Test, RemovedIpv6AllocationTakesEverythingWithIt) {
  ASSERT_EQ(w().add_allocation(AllocId{9}, entry6("[2001:db8::10]:5000", "[2001:db8::1]:3478", "[2001:db8:1::1]:50000")),
            WriteResult::ok);
  ASSERT_EQ(w().set_permission(AllocId{9}, *IpAddress::parse("2001:db8:9::1"), 500), WriteResult::ok);
  ASSERT_EQ(w().set_channel(AllocId{9}, 0x4001, ta("[2001:db8:9::1]:7000"), 500), WriteResult::ok);
  ASSERT_EQ(w().remove_allocation(AllocId{9}), WriteResult::ok);
  const auto key = make_client_key(v6("2001:db8::10"), be16(5000), v6("2001:db8::1"), be16(3478));
  EXPECT_EQ(tables_->find_client(key), kNoAllocation);
  EXPECT_EQ(tables_->find_relay(2, be16(50000)), kNoAllocation);
  EXPECT_FALSE(tables_->permitted(AllocId{9}, slot(AllocId{9}), v6("2001:db8:9::1"), kNow));
  AllocId out[4];
  ASSERT_EQ(w().reclaimed(out), 1u);
  ASSERT_EQ(w().add_allocation(AllocId{9}, entry6("10.90.0.10:5000", "10.90.0.1:3478", "[2001:db8:1::1]:50000")),
            WriteResult::ok);
  Ip6 ip{};
  uint16_t port = 0;
  EXPECT_FALSE(tables_->permitted(AllocId{9}, slot(AllocId{9}), v6("2001:db8:9::1"), kNow));
  EXPECT_FALSE(tables_->channel_peer(AllocId{9}, slot(AllocId{9}), 0x4001, kNow, ip, port));
  EXPECT_EQ(slot(AllocId{9}).flags.load() & kClientIpv6, 0);
}

TEST_F(TablesTest, Ipv6NeedsTablesMadeForIt) {
  EXPECT_FALSE(tables_->ipv6());
  AllocationEntry e;
  e.five_tuple = {ta("[2001:db8::10]:5000"), ta("[2001:db8::1]:3478"), Transport::udp};
  e.relayed = ta("10.90.0.1:50000");
  e.expires = 700;
  EXPECT_EQ(w().add_allocation(AllocId{1}, e), WriteResult::unsupported);
  EXPECT_EQ(tables_->find_client(make_client_key(Ip6{}, 0, Ip6{}, 0)), kNoAllocation);
}

}  // namespace
}  // namespace tern::dp
