// The control socket protocol's codec: every request survives ternctl's encoding and ternd's
// decoding, every reply the other way, and every malformed line gets a precise error.

#include <gtest/gtest.h>

#include <string>

#include "control/api/codec.hpp"

namespace tern::ctl::api {
namespace {

IpAddress ip(std::string_view s) { return *IpAddress::parse(s); }
TransportAddress ta(std::string_view s) { return *TransportAddress::parse(s); }

Request decode_ok(std::string_view line) {
  std::optional<uint64_t> id;
  auto r = decode_request(line, id);
  EXPECT_TRUE(r) << line << " -> " << (r ? "" : r.error().message);
  return r ? r.value() : Request{};
}

Error decode_error(std::string_view line, std::optional<uint64_t>* id_out = nullptr) {
  std::optional<uint64_t> id;
  auto r = decode_request(line, id);
  EXPECT_FALSE(r) << line;
  if (id_out) *id_out = id;
  return r ? Error{} : r.error();
}

TEST(ApiCodec, EveryRequestRoundTrips) {
  const std::vector<Request> requests = {
      VersionRequest{},
      StatusRequest{},
      StatsRequest{},
      AllocationsRequest{},
      AllocationsRequest{.user = "alice", .client = Endpoint::parse("[2001:db8::1]:5000"), .limit = 7},
      AllocationsRequest{.client = Endpoint::parse("192.0.2.1")},
      AllocationRequest{42},
      KillRequest{.allocation = 3},
      KillRequest{.user = "bob"},
      UsersListRequest{},
      UsersAddRequest{.name = "carol", .password = "pw"},
      UsersAddRequest{.name = "dave", .key = std::string(32, 'a'), .key_sha256 = std::string(64, 'b')},
      UsersRemoveRequest{"carol"},
      SecretsListRequest{},
      SecretsAddRequest{.secret = "s3cret", .last = true},
      SecretsRemoveRequest{"abcdef"},
      ReloadRequest{},
      DrainRequest{true},
      DrainRequest{false},
      ProbeRequest{},
      ProbeDoneRequest{.username = "tern-probe-1", .failures = 1, .warnings = 2},
      TraceRequest{.address = ip("10.91.0.20"), .seconds = 5},
  };
  for (const auto& request : requests) {
    const std::string line = encode_request(request, 9);
    std::optional<uint64_t> id;
    const auto back = decode_request(line, id);
    ASSERT_TRUE(back) << line << ": " << back.error().message;
    EXPECT_EQ(id, 9u);
    EXPECT_EQ(command_of(back.value()), command_of(request));
    // Encoding what was decoded gives the same line: nothing lost, nothing added.
    EXPECT_EQ(encode_request(back.value(), 9), line);
    EXPECT_EQ(line.find('\n'), std::string::npos);
  }
}

TEST(ApiCodec, RequestsAsAScriptWritesThem) {
  const auto r = decode_ok(R"({"v":1,"cmd":"allocations","user":"alice","client":"198.51.100.1:5000","limit":10})");
  const auto& a = std::get<AllocationsRequest>(r);
  EXPECT_EQ(a.user, "alice");
  EXPECT_EQ(a.client->ip, ip("198.51.100.1"));
  EXPECT_EQ(a.client->port->value, 5000);
  EXPECT_EQ(a.limit, 10u);
  EXPECT_FALSE(std::get<AllocationsRequest>(decode_ok(R"({"cmd":"allocations","v":1,"user":null})")).user);
  EXPECT_EQ(std::get<TraceRequest>(decode_ok(R"({"v":1,"cmd":"trace","address":"::ffff:10.0.0.1"})")).address,
            ip("::ffff:10.0.0.1"));
  EXPECT_TRUE(std::get<DrainRequest>(decode_ok(" {\"v\":1,\"cmd\":\"drain\",\"on\":true} ")).on);
}

TEST(ApiCodec, MalformedLinesGetPreciseErrors) {
  struct Case {
    std::string line;
    ErrorCode code;
    std::string words;
  };
  const std::vector<Case> cases = {
      {"", ErrorCode::parse_error, "not a JSON object"},
      {"status", ErrorCode::parse_error, "not a JSON object"},
      {"[1,2]", ErrorCode::parse_error, "not a JSON object"},
      {R"({"v":1,"cmd":"status")", ErrorCode::parse_error, "not a JSON object"},
      {"{\"v\":1,\"cmd\":\"st\xff\"}", ErrorCode::parse_error, "not a JSON object"},  // not UTF-8
      {R"({"cmd":"status"})", ErrorCode::bad_request, "missing 'v'"},
      {R"({"v":2,"cmd":"status"})", ErrorCode::unsupported_version, "version 2"},
      {R"({"v":"1","cmd":"status"})", ErrorCode::unsupported_version, "use 1"},
      {R"({"v":1})", ErrorCode::bad_request, "missing 'cmd'"},
      {R"({"v":1,"cmd":7})", ErrorCode::bad_request, "missing 'cmd'"},
      {R"({"v":1,"cmd":"destroy"})", ErrorCode::unknown_command, "unknown command 'destroy'"},
      {R"({"v":1,"cmd":"status","verbose":true})", ErrorCode::bad_request, "unknown field 'verbose'"},
      {R"({"v":1,"cmd":"allocation"})", ErrorCode::bad_request, "missing field 'allocation'"},
      {R"({"v":1,"cmd":"allocation","allocation":-1})", ErrorCode::bad_request, "'allocation': expected an unsigned"},
      {R"({"v":1,"cmd":"allocation","allocation":1.5})", ErrorCode::bad_request, "field 'allocation'"},
      {R"({"v":1,"cmd":"allocation","allocation":4294967296})", ErrorCode::bad_request, "a smaller number"},
      {R"({"v":1,"cmd":"allocation","allocation":"3"})", ErrorCode::bad_request, "field 'allocation'"},
      {R"({"v":1,"cmd":"drain","on":"yes"})", ErrorCode::bad_request, "true or false"},
      {R"({"v":1,"cmd":"trace","address":"10.0.0.300"})", ErrorCode::bad_request, "not \"10.0.0.300\""},
      {R"({"v":1,"cmd":"trace","address":7})", ErrorCode::bad_request, "an address as a string"},
      {R"({"v":1,"cmd":"allocations","client":"host.example"})", ErrorCode::bad_request, "field 'client'"},
      {R"({"v":1,"cmd":"users.add","name":["a"]})", ErrorCode::bad_request, "field 'name': expected a string"},
      {R"({"v":1,"cmd":"status","id":-4})", ErrorCode::bad_request, "'id'"},
  };
  for (const auto& c : cases) {
    const Error e = decode_error(c.line);
    EXPECT_EQ(e.code, c.code) << c.line << ": " << e.message;
    EXPECT_NE(e.message.find(c.words), std::string::npos) << c.line << ": " << e.message;
  }
  std::string huge = R"({"v":1,"cmd":"users.add","name":")" + std::string(kMaxRequestLine, 'x') + R"("})";
  EXPECT_EQ(decode_error(huge).code, ErrorCode::too_large);
}

TEST(ApiCodec, ErrorsCarryTheRequestId) {
  std::optional<uint64_t> id;
  decode_error(R"({"v":1,"cmd":"nope","id":77})", &id);
  EXPECT_EQ(id, 77u);
  const std::string line = encode_error({ErrorCode::not_found, "no allocation 3", {"a", "b"}}, id);
  EXPECT_EQ(line, R"({"v":1,"id":77,"ok":false,"error":{"code":"not_found","message":"no allocation 3","details":["a","b"]}})");
  const auto back = decode_reply<KillReply>(line);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, ErrorCode::not_found);
  EXPECT_EQ(back.error().message, "no allocation 3");
  EXPECT_EQ(back.error().details, (std::vector<std::string>{"a", "b"}));
}

TEST(ApiCodec, RepliesRoundTripAndReadAsDocumented) {
  AllocationReply a;
  a.allocation = {.id = 3, .user = "alice", .client = ta("198.51.100.1:5000"), .server = ta("192.0.2.1:3478"),
                  .transport = "udp", .relayed = ta("203.0.113.7:50001"), .bound = ta("192.0.2.10:50001"),
                  .expires_in = 590, .age = 10, .permissions = 1, .channels = 1};
  a.reservation_token = "0102030405060708";
  a.permission_list = {{ip("192.0.2.50"), 290}};
  a.channel_list = {{0x4001, ta("192.0.2.51:9000"), 590}};
  a.traffic = {1, 2, 3, 4, 5, 6};
  const std::string line = encode_reply(a, std::nullopt);
  EXPECT_EQ(line.substr(0, 46), R"({"v":1,"ok":true,"result":{"allocation":{"id":)");
  const auto back = decode_reply<AllocationReply>(line);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_json(back.value()), to_json(a));
  EXPECT_EQ(back->allocation.relayed, ta("203.0.113.7:50001"));
  EXPECT_EQ(back->channel_list[0].number, 0x4001u);

  StatsReply s;
  s.workers = 1;
  s.dataplane = {{"rx_packets", 5}, {"drop_malformed", 0}};
  s.per_worker = {s.dataplane};
  s.load = {{0, 0.25, 3}};
  const std::string stats_line = encode_reply(s, 1);
  // Counters keep the order of the list that defines them.
  EXPECT_NE(stats_line.find(R"("dataplane":{"rx_packets":5,"drop_malformed":0})"), std::string::npos);
  const auto stats = decode_reply<StatsReply>(stats_line);
  ASSERT_TRUE(stats);
  ASSERT_EQ(stats->dataplane.size(), 2u);
  EXPECT_EQ(stats->dataplane[0].name, "rx_packets");
  EXPECT_EQ(stats->per_worker[0][0].value, 5u);
  EXPECT_DOUBLE_EQ(stats->load[0].busy_ratio, 0.25);
}

TEST(ApiCodec, ClientsIgnoreResultFieldsTheyDoNotKnow) {
  const auto r = decode_reply<KillReply>(R"({"v":1,"ok":true,"result":{"killed":2,"from_the_future":[1]}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->killed, 2u);
  EXPECT_FALSE(decode_reply<KillReply>(R"({"v":1,"ok":true,"result":{}})"));
  EXPECT_FALSE(decode_reply<KillReply>("garbage"));
  EXPECT_FALSE(decode_reply<KillReply>(R"({"v":1,"ok":true})"));
}

TEST(ApiCodec, StreamLinesNameTheirEvent) {
  TraceBatch b;
  b.records = {{.time = 0.5, .source = "worker 0", .from = "10.91.0.20:7000", .to = "10.91.0.1:50001",
                .packet = "peer_data", .decision = "dropped", .reason = "drop_no_permission"}};
  b.suppressed = 4;
  const std::string line = encode_event("trace", b, 5);
  EXPECT_EQ(event_of(line), "trace");
  EXPECT_FALSE(event_of(encode_reply(KillReply{1}, 5)));
  const auto back = decode_reply<TraceBatch>(line, "trace");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->records[0].reason, "drop_no_permission");
  EXPECT_EQ(back->suppressed, 4u);
  EXPECT_FALSE(decode_reply<TraceBatch>(line));                 // not a plain reply
  EXPECT_FALSE(decode_reply<TraceEnd>(line, "trace_end"));      // another event
}

TEST(ApiCodec, TextFromTheNetworkThatIsNotUtf8IsReplacedNotRefused) {
  AllocationsReply r;
  r.allocations.push_back({.id = 1, .user = "bad\xff\xfeuser"});
  const std::string line = encode_reply(r, std::nullopt);
  const auto back = decode_reply<AllocationsReply>(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->allocations[0].user, "bad\xEF\xBF\xBD\xEF\xBF\xBDuser");
}

}  // namespace
}  // namespace tern::ctl::api
