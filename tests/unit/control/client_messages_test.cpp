// Requests as real clients send them, built without tern's codec: requests captured from coturn's
// turnutils_uclient and from Chromium, the RFC 5769 §2.4 and RFC 8489 Appendix B.1 sample requests byte for byte,
// and Allocate / CreatePermission / ChannelBind / Refresh exchanges encoded here by hand, with
// OpenSSL's HMAC and MD5 and zlib's CRC-32, in the attribute orders aioice, turnutils_uclient and
// libwebrtc use.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "tests/unit/control/control_test_util.hpp"
#include "tests/unit/control/stun_test_util.hpp"

namespace tern::ctl::test {
namespace {

using stun::test::hex;

// ---- an encoder of its own --------------------------------------------------------------------

struct RawAttribute {
  uint16_t type;
  std::vector<uint8_t> value;
};

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void set_length(std::vector<uint8_t>& m, size_t body) {
  m[2] = static_cast<uint8_t>(body >> 8);
  m[3] = static_cast<uint8_t>(body);
}

std::vector<uint8_t> text(std::string_view s) { return {s.begin(), s.end()}; }

std::vector<uint8_t> u32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
          static_cast<uint8_t>(v)};
}

// XOR-PEER-ADDRESS of an IPv4 peer, RFC 8489 §14.2 by hand.
std::vector<uint8_t> xor_peer(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  const uint16_t xport = port ^ 0x2112;
  return {0, 1, static_cast<uint8_t>(xport >> 8), static_cast<uint8_t>(xport), static_cast<uint8_t>(a ^ 0x21),
          static_cast<uint8_t>(b ^ 0x12), static_cast<uint8_t>(c ^ 0xa4), static_cast<uint8_t>(d ^ 0x42)};
}

std::vector<uint8_t> encode(uint16_t type, const std::array<uint8_t, 12>& id, const std::vector<RawAttribute>& attributes,
                            const std::vector<uint8_t>* key, bool fingerprint) {
  std::vector<uint8_t> m;
  put16(m, type);
  put16(m, 0);
  for (const uint8_t b : {0x21, 0x12, 0xa4, 0x42}) m.push_back(b);
  m.insert(m.end(), id.begin(), id.end());
  for (const auto& a : attributes) {
    put16(m, a.type);
    put16(m, static_cast<uint16_t>(a.value.size()));
    m.insert(m.end(), a.value.begin(), a.value.end());
    while (m.size() % 4 != 0) m.push_back(0);
  }
  if (key != nullptr) {
    set_length(m, m.size() - 20 + 24);
    unsigned int len = 0;
    uint8_t tag[EVP_MAX_MD_SIZE];
    HMAC(EVP_sha1(), key->data(), static_cast<int>(key->size()), m.data(), m.size(), tag, &len);
    put16(m, 0x0008);
    put16(m, 20);
    m.insert(m.end(), tag, tag + 20);
  }
  if (fingerprint) {
    set_length(m, m.size() - 20 + 8);
    const uint32_t crc = static_cast<uint32_t>(crc32(0, m.data(), static_cast<uInt>(m.size()))) ^ 0x5354554e;
    put16(m, 0x8028);
    put16(m, 4);
    for (const uint8_t b : u32(crc)) m.push_back(b);
  }
  set_length(m, m.size() - 20);
  return m;
}

std::vector<uint8_t> md5_key(std::string_view user, std::string_view realm, std::string_view password) {
  const std::string s = std::string(user) + ":" + std::string(realm) + ":" + std::string(password);
  std::vector<uint8_t> out(16);
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), out.data(), &len, EVP_md5(), nullptr);
  return out;
}

// A client session driven by the hand encoder.
class HandClient {
 public:
  HandClient(Harness& h, std::string_view address, std::string user, std::string password, std::string style)
      : h_(h), ft_(five_tuple(address)), user_(std::move(user)), key_(md5_key(user_, kRealm, password)),
        style_(std::move(style)) {}

  // `head` are the method's own attributes, in the client's order; credentials follow.
  Answer request(uint16_t type, std::vector<RawAttribute> head, bool authenticated = true) {
    ++id_[11];
    if (authenticated) {
      head.push_back({0x0006, text(user_)});
      head.push_back({0x0014, text(kRealm)});
      head.push_back({0x0015, text(nonce_)});
    }
    const bool fingerprint = style_ != "uclient";
    const auto bytes = encode(type, id_, head, authenticated ? &key_ : nullptr, fingerprint);
    Answer a = h_.send(ft_, bytes);
    if (a.parsed() && !a.success())
      if (const auto n = stun::nonce(a.msg())) nonce_ = std::string(*n);
    return a;
  }

  std::vector<RawAttribute> allocate_attributes() const {
    if (style_ == "aioice") return {{0x000D, u32(600)}, {0x0019, {17, 0, 0, 0}}};
    if (style_ == "uclient") return {{0x0019, {17, 0, 0, 0}}, {0x001A, {}}, {0x8022, text("Coturn-4.6.1 'Gorst'")}};
    // libwebrtc: REQUESTED-TRANSPORT and a comprehension-optional attribute of its own.
    return {{0x0019, {17, 0, 0, 0}}, {0xC057, {0, 1, 0, 0x0a}}};
  }

  // 401, then the authenticated Allocate, CreatePermission, ChannelBind, Refresh and delete.
  void run() {
    Answer a = request(0x0003, allocate_attributes(), false);
    ASSERT_EQ(a.code(), 401) << style_;
    ASSERT_FALSE(nonce_.empty());
    a = request(0x0003, allocate_attributes());
    ASSERT_EQ(a.code(), 0) << style_;
    std::vector<uint8_t> scratch(a.bytes().size());
    EXPECT_TRUE(stun::verify_integrity(a.msg(), stun::Integrity::sha1, h_.engine().make_mac_key(crypto::Mac::hmac_sha1, key_),
                                       h_.engine(), scratch))
        << style_;
    EXPECT_EQ(a.msg().has_fingerprint(), style_ != "uclient");
    EXPECT_EQ(request(0x0008, {{0x0012, xor_peer(203, 0, 113, 5, 7000)}, {0x0012, xor_peer(203, 0, 113, 6, 7000)}}).code(),
              0)
        << style_;
    EXPECT_EQ(request(0x0009, {{0x000C, {0x40, 0x00, 0, 0}}, {0x0012, xor_peer(203, 0, 113, 5, 7000)}}).code(), 0)
        << style_;
    EXPECT_EQ(request(0x0004, {{0x000D, u32(600)}}).code(), 0) << style_;
    EXPECT_EQ(request(0x0004, {{0x000D, u32(0)}}).code(), 0) << style_;
  }

 private:
  Harness& h_;
  dp::FiveTuple ft_;
  std::string user_;
  std::vector<uint8_t> key_;
  std::string style_;
  std::string nonce_;
  std::array<uint8_t, 12> id_{0x51, 0x7a, 0x02, 0x9c, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x00};
};

TEST(ClientMessages, HandEncodedSessions) {
  Harness h;
  int port = 40000;
  for (const char* style : {"aioice", "uclient", "libwebrtc"}) {
    HandClient c(h, "198.51.100.1:" + std::to_string(port++), "alice", "alice-password", style);
    c.run();
  }
  EXPECT_EQ(h.counter(Counter::allocations_created), 3u);
  EXPECT_EQ(h.counter(Counter::allocations_deleted), 3u);
  EXPECT_EQ(h.counter(Counter::auth_bad_integrity), 0u);
}

TEST(ClientMessages, RestCredentialsAsACoturnStyleClientMakesThem) {
  Harness h;
  const std::string user = std::to_string(h.now.unix + 86400) + ":web-client-17";
  HandClient c(h, "198.51.100.1:40000", user, rest_password(h.engine(), kRestSecret, user), "aioice");
  c.run();
}

// RFC 5769 §2.4 and RFC 8489 B.1 name user U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 with password
// "TheMatrIX" in realm "example.org". Their nonces are not tern's, so the right answer is 438: it
// is reached only after the request's integrity verified (401 otherwise).
constexpr std::string_view kMatrixUser = "\xE3\x83\x9E\xE3\x83\x88\xE3\x83\xAA\xE3\x83\x83\xE3\x82\xAF\xE3\x82\xB9";

TEST(ClientMessages, Rfc5769LongTermSample) {
  Harness h;
  h.plane().add_user(make_user(h.engine(), std::string(kMatrixUser), "TheMatrIX"));
  const auto request = hex(R"(
    00 01 00 60  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
    00 06 00 12  e3 83 9e e3  83 88 e3 83  aa e3 83 83  e3 82 af e3  82 b9 00 00
    00 15 00 1c  66 2f 2f 34  39 39 6b 39  35 34 64 36  4f 4c 33 34  6f 4c 39 46
                 53 54 76 79  36 34 73 41
    00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
    00 08 00 14  f6 70 24 65  6d d6 4a 3e  02 b8 e0 71  2e 85 c9 a2  8c a8 96 66)");
  const Answer a = h.send(five_tuple("198.51.100.1:40000"), request);
  EXPECT_EQ(a.code(), 438);
  EXPECT_EQ(h.counter(Counter::auth_stale_nonce), 1u);
  EXPECT_EQ(h.counter(Counter::auth_bad_integrity), 0u);
  // One bit off and it is 401.
  auto bad = request;
  bad[bad.size() - 1] ^= 1;
  EXPECT_EQ(h.send(five_tuple("198.51.100.1:40000"), bad).code(), 401);
}

TEST(ClientMessages, Rfc8489B1SampleWithUserhashAndSha256) {
  Harness h;
  h.plane().add_user(make_user(h.engine(), std::string(kMatrixUser), "TheMatrIX"));
  // As corrected by erratum 6268.
  const auto request = hex(R"(
    00 01 00 90  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
    00 1e 00 20  4a 3c f3 8f  ef 69 92 bd  a9 52 c6 78  04 17 da 0f
                 24 81 94 15  56 9e 60 b2  05 c4 6e 41  40 7f 17 04
    00 15 00 29  6f 62 4d 61  74 4a 6f 73  32 41 41 41  43 66 2f 2f
                 34 39 39 6b  39 35 34 64  36 4f 4c 33  34 6f 4c 39
                 46 53 54 76  79 36 34 73  41 00 00 00
    00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
    00 1d 00 04  00 02 00 00
    00 1c 00 20  b5 c7 bf 00  5b 6c 52 a2  1c 51 c5 e8  92 f8 19 24
                 13 62 96 cb  92 7c 43 14  93 09 27 8c  c6 51 8e 65)");
  const Answer a = h.send(five_tuple("198.51.100.1:40000"), request);
  EXPECT_EQ(a.code(), 438);
  EXPECT_EQ(h.counter(Counter::auth_bad_integrity), 0u);
  EXPECT_TRUE(stun::nonce(a.msg()));
}

// Captured from coturn 4.6.1's turnutils_uclient (-u alice -w alice-password -e 203.0.113.5 -c),
// answered by a stand-in that sent the 401 this harness sends to 198.51.100.1:40000 at its start
// time (same nonce secret), so the client's NONCE is one tern issued.
TEST(ClientMessages, TurnutilsUclientCapture) {
  Harness h;
  const auto ft = five_tuple("198.51.100.1:40000");
  // Allocate without credentials: REQUESTED-TRANSPORT, LIFETIME, EVEN-PORT, REQUESTED-ADDRESS-FAMILY,
  // FINGERPRINT.
  Answer a = h.send(ft, hex("000300282112a442ea8f36cc41083a4259deca220019000411000000000d000400000309001800010000"
                            "000000170004010000008028000401d6716e"));
  ASSERT_EQ(a.code(), 401);
  ASSERT_EQ(*stun::nonce(a.msg()), "obMatJos2AAADZVPxAANzSCLM5Ww1HcDZ");
  // The authenticated Allocate (MESSAGE-INTEGRITY, no PASSWORD-ALGORITHM: uclient is an RFC 5389 client).
  a = h.send(ft, hex("0003007c2112a442d45dc9cd1ee49ee7ce2a650b0019000411000000000d000400000309001700040100000000"
                     "060005616c696365000000001500216f624d61744a6f7332414141445a56507841414e7a53434c4d35577731"
                     "4863445a0000000014000b6578616d706c652e6f7267000008001462a1a2a74aa8c7d762f6cf673530a68573"
                     "f6762280280004ea8d5a1c"));
  ASSERT_EQ(a.code(), 0);
  EXPECT_EQ(stun::lifetime(a.msg())->seconds, 777u);
  EXPECT_TRUE(a.msg().has_fingerprint());
  // Refresh, LIFETIME 777.
  a = h.send(ft, hex("0004006c2112a442b36c07468bb502c78f7638b7000d00040000030900060005616c696365000000001500216f"
                     "624d61744a6f7332414141445a56507841414e7a53434c4d355777314863445a0000000014000b6578616d70"
                     "6c652e6f72670000080014a6ef3f6b572c57399bd40d20184a8b498587fd1580280004b3e729b8"));
  EXPECT_EQ(a.code(), 0);
  // CreatePermission for 203.0.113.5.
  a = h.send(ft, hex("000800702112a44235c5f1686e22cbf5875805730012000800012c8aea12d54700060005616c69636500000000"
                     "1500216f624d61744a6f7332414141445a56507841414e7a53434c4d355777314863445a0000000014000b65"
                     "78616d706c652e6f72670000080014557375242bf6d21888f6857e66472b5f1775a31a802800044c676bb1"));
  EXPECT_EQ(a.code(), 0);
  EXPECT_EQ(h.writer.permissions(dp::AllocId{0}).size(), 1u);
  // ChannelBind 0x68F2: uclient draws channel numbers from RFC 5766's 0x4000-0x7FFE, and RFC 8656
  // §12 narrowed them to 0x4000-0x4FFF ("not backwards compatible with [RFC5766]"): 400.
  a = h.send(ft, hex("000900782112a442a1a388c8cca0fbeffc15f20b000c000468f200000012000800012c8bea12d547000600056"
                     "16c696365000000001500216f624d61744a6f7332414141445a56507841414e7a53434c4d35577731486344"
                     "5a0000000014000b6578616d706c652e6f726700000800147c35d32872fd9ea3313efc515c132ea95ab2241"
                     "580280004e639e32d"));
  EXPECT_EQ(a.code(), 400);
  // Refresh, LIFETIME 600.
  a = h.send(ft, hex("0004006c2112a4423894fca344018f7ef1d91acd000d00040000025800060005616c696365000000001500216f"
                     "624d61744a6f7332414141445a56507841414e7a53434c4d355777314863445a0000000014000b6578616d70"
                     "6c652e6f72670000080014f4bde1db6e0f4286b4f02fa1eec36ba87e112d7f80280004f2231aaa"));
  EXPECT_EQ(a.code(), 0);
  EXPECT_EQ(h.counter(Counter::auth_bad_integrity), 0u);
}

// The same with TURN REST API credentials (-W north-secret): uclient made the username
// "1795319031:alice" and its password from the secret.
TEST(ClientMessages, TurnutilsUclientRestCapture) {
  Harness h;
  const auto ft = five_tuple("198.51.100.1:40000");
  const Answer a = h.send(
      ft, hex("000300842112a4422275021b899779897e5a32380019000411000000000d00040000030900170004010000000006"
              "0010313739353331393033313a616c696365001500216f624d61744a6f7332414141445a56507841414e7a53434c"
              "4d355777314863445a0000000014000b6578616d706c652e6f72670000080014e6c27945c8d5dccd88f659689925"
              "bd7c563092298028000437a0c0b4"));
  ASSERT_EQ(a.code(), 0);
  const auto list = h.plane().list_allocations({}, h.now);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].user, "1795319031:alice");
  EXPECT_EQ(h.plane().authenticator().rest_derivations(), 1u);
}

// Captured from Chromium's WebRTC (an RTCPeerConnection with iceTransportPolicy "relay"): the first
// Allocate carries REQUESTED-TRANSPORT alone; the second adds USERNAME, REALM, NONCE and
// MESSAGE-INTEGRITY, in that order, without FINGERPRINT.
TEST(ClientMessages, ChromiumCapture) {
  Harness h;
  const auto ft = five_tuple("198.51.100.1:40000");
  Answer a = h.send(ft, hex("000300082112a4425a486931575a6d4a6b777a610019000411000000"));
  ASSERT_EQ(a.code(), 401);
  a = h.send(ft, hex("000300642112a4424a2f64584b77536b35476a5a001900041100000000060005616c6963650000000014000b65"
                     "78616d706c652e6f726700001500216f624d61744a6f7332414141445a56507841414e7a53434c4d35577731"
                     "4863445a00000000080014a3465ca2f6283ff6e41a6e5aba0b6e35e5c96f1f"));
  ASSERT_EQ(a.code(), 0);
  EXPECT_FALSE(a.msg().has_fingerprint());
  EXPECT_TRUE(a.msg().has_message_integrity());
}

TEST(ClientMessages, BindingRequestsThatReachTheControlPlane) {
  Harness h;
  // A plain Binding with a comprehension-required attribute tern does not know: 420.
  const std::array<uint8_t, 12> id{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  Answer a = h.send(five_tuple("198.51.100.1:40000"), encode(0x0001, id, {{0x0024, {0x6e, 0, 1, 0xff}}}, nullptr, true));
  ASSERT_EQ(a.code(), 420);
  const auto unknown = stun::unknown_attributes(a.msg());
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->size(), 1u);
  EXPECT_EQ((*unknown)[0], 0x0024);
  EXPECT_TRUE(a.msg().has_fingerprint());
  // A plain Binding with only comprehension-optional extras: XOR-MAPPED-ADDRESS.
  a = h.send(five_tuple("198.51.100.1:40000"), encode(0x0001, id, {{0x8022, text("probe")}}, nullptr, false));
  ASSERT_EQ(a.code(), 0);
  EXPECT_EQ(*stun::xor_mapped_address(a.msg()), ta("198.51.100.1:40000"));
  // An authenticated Binding: answered and signed, after the usual 401.
  Client alice(h, "198.51.100.1:40001", "alice", "alice-password");
  alice.challenge();
  a = alice.send(stun::Method::binding, {});
  ASSERT_EQ(a.code(), 0);
  EXPECT_TRUE(alice.verifies(a, stun::Integrity::sha1));
  EXPECT_EQ(*stun::xor_mapped_address(a.msg()), ta("198.51.100.1:40001"));
  // An authenticated request with an unknown comprehension-required attribute: 420, signed.
  a = alice.send(stun::Method::allocate, [](stun::Builder& b) {
    b.add_requested_transport({});
    b.add_raw(0x7F01, std::vector<uint8_t>{1, 2, 3, 4});
  });
  ASSERT_EQ(a.code(), 420);
  EXPECT_TRUE(alice.verifies(a, stun::Integrity::sha1));
  EXPECT_EQ((*stun::unknown_attributes(a.msg()))[0], 0x7F01);
}

TEST(ClientMessages, WhatIsNeverAnswered) {
  Harness h;
  const auto ft = five_tuple("198.51.100.1:40000");
  const std::array<uint8_t, 12> id{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  // Not STUN; a truncated message; a Send indication; a success response; an unknown method
  // (RFC 8489 §6.3: "silently discarded"); a Send request (a class Send does not have).
  const std::vector<std::vector<uint8_t>> silent = {
      {0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4},
      {0x00, 0x01, 0x00, 0x08, 0x21, 0x12},
      encode(0x0016, id, {{0x0012, xor_peer(203, 0, 113, 5, 1)}, {0x0013, {1, 2, 3}}}, nullptr, false),
      encode(0x0101, id, {}, nullptr, false),
      encode(0x0005, id, {}, nullptr, false),
      encode(0x0006, id, {}, nullptr, false),
  };
  for (const auto& m : silent) EXPECT_EQ(h.send(ft, m).code(), -1);
  EXPECT_EQ(h.counter(Counter::dropped_malformed), 2u);
  EXPECT_EQ(h.counter(Counter::indications_ignored), 1u);
  EXPECT_EQ(h.counter(Counter::responses_ignored), 1u);
  EXPECT_EQ(h.counter(Counter::dropped_unsupported), 2u);
}

}  // namespace
}  // namespace tern::ctl::test
