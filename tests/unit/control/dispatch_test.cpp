// The socket handler: any line in, one JSON line out, through the same operator core ternctl's
// requests reach; a malformed line is answered, never fatal.

#include <gtest/gtest.h>

#include "control/api/codec.hpp"
#include "control/operator/dispatch.hpp"
#include "tests/unit/control/operator_test_util.hpp"

namespace tern::ctl::test {
namespace {

class DispatchTest : public ::testing::Test {
 protected:
  std::string answer(std::string_view line, uint64_t client = 1) {
    return dispatcher.answer(line, {0, 9, "socket"}, o.h.now, 5000, client, {[](std::string_view) { return true; }, {}});
  }

  OperatorHarness o;
  FakeTracing tracing;
  Tracer tracer{tracing, o.h.logger(), o.h.engine()};
  Dispatcher dispatcher{o.op, tracer, o.h.logger()};
};

TEST_F(DispatchTest, RequestsReachTheOperatorCore) {
  const auto status = api::decode_reply<api::StatusReply>(answer(R"({"v":1,"cmd":"status","id":3})"));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->users, 3u);

  const std::string added = answer(api::encode_request(api::UsersAddRequest{.name = "dave", .password = "pw"}, 4));
  EXPECT_EQ(added.substr(0, 25), R"({"v":1,"id":4,"ok":true,")");
  EXPECT_TRUE(o.h.logged("action=users.add uid=0 pid=9 via=socket user=dave"));

  const auto missing = api::decode_reply<api::AllocationReply>(answer(R"({"v":1,"cmd":"allocation","allocation":9})"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, api::ErrorCode::not_found);
}

TEST_F(DispatchTest, MalformedLinesGetJsonErrors) {
  const std::vector<std::string> lines = {"", "{", "null", "\x01\x02", R"({"v":1,"cmd":"status","x":1})", R"({"v":9})",
                                         R"({"v":1,"cmd":"kill"})", std::string(100, '[') + std::string(100, ']')};
  for (const auto& line : lines) {
    const std::string a = answer(line);
    EXPECT_NE(a.find(R"("ok":false)"), std::string::npos) << line << " -> " << a;
    EXPECT_EQ(a.find('\n'), std::string::npos);
  }
  EXPECT_NE(answer(R"({"v":1,"cmd":"kill","id":5})").find(R"("id":5,"ok":false,"error":{"code":"bad_request")"),
            std::string::npos);
}

TEST_F(DispatchTest, TraceStartsAStreamForItsClient) {
  const auto started = api::decode_reply<api::TraceReply>(answer(R"({"v":1,"cmd":"trace","address":"10.91.0.20"})", 2));
  ASSERT_TRUE(started);
  EXPECT_EQ(started->seconds, api::kDefaultTraceSeconds);
  EXPECT_TRUE(tracer.follows(2));
  EXPECT_EQ(tracing.trace_address(), ip("10.91.0.20"));
  // status says what is traced.
  EXPECT_EQ(api::decode_reply<api::StatusReply>(answer(R"({"v":1,"cmd":"status"})"))->tracing, ip("10.91.0.20"));
  const auto busy = api::decode_reply<api::TraceReply>(answer(R"({"v":1,"cmd":"trace","address":"10.91.0.21"})", 3));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, api::ErrorCode::busy);
}

}  // namespace
}  // namespace tern::ctl::test
