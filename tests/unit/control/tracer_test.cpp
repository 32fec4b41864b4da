// trace: one at a time, the data plane told what to record and when to stop, the control plane's
// decisions added (a 403 for a denied peer shows in a trace of that peer), records described for
// ternctl, the stream rate-limited, batched and ended; all on a clock the test moves.

#include <gtest/gtest.h>

#include "control/api/codec.hpp"
#include "control/operator/trace_records.hpp"
#include "control/operator/tracer.hpp"
#include "tests/unit/control/operator_test_util.hpp"

namespace tern::ctl::test {
namespace {

class TracerTest : public ::testing::Test {
 protected:
  Tracer::Sink sink() {
    return {[this](std::string_view line) {
              lines.emplace_back(line);
              return accept;
            },
            [this] { done = true; }};
  }
  api::Result<api::TraceReply> start(std::string_view address, uint32_t seconds = 5, uint64_t client = 1) {
    return tracer.start({*IpAddress::parse(address), seconds}, caller, now, client, 7, sink());
  }
  dp::TraceRecord worker_record(std::string_view from, std::string_view to, dp::TraceOutcome outcome,
                                uint16_t reason = 0) {
    dp::TraceRecord r;
    r.time_ns = 1'500'000'000;
    r.from = ta(from);
    r.to = ta(to);
    r.packet = dp::TracePacket::peer_data;
    r.outcome = outcome;
    r.reason = reason;
    r.allocation = dp::AllocId{3};
    r.source = 0;
    return r;
  }
  std::vector<api::TraceRecord> records() {
    std::vector<api::TraceRecord> out;
    for (const auto& l : lines)
      if (api::event_of(l) == "trace") {
        const auto batch = api::decode_reply<api::TraceBatch>(l, "trace");
        out.insert(out.end(), batch->records.begin(), batch->records.end());
      }
    return out;
  }

  FakeTracing tracing;
  Logger logger;
  std::unique_ptr<crypto::Engine> engine = crypto::make_default_engine();
  Tracer tracer{tracing, logger, *engine, 10};
  Caller caller{0, 1, "socket"};
  uint64_t now = 1000;
  std::vector<std::string> lines;
  bool accept = true;
  bool done = false;
};

TEST_F(TracerTest, OneTraceAtATimeAndTheDataPlaneFollows) {
  const auto r = start("10.91.0.20");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->address, ip("10.91.0.20"));
  EXPECT_EQ(r->seconds, 5u);
  EXPECT_EQ(r->rate, 10u);
  EXPECT_EQ(tracing.trace_address(), ip("10.91.0.20"));
  const auto busy = start("10.1.1.1", 5, 2);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, api::ErrorCode::busy);
  EXPECT_NE(busy.error().message.find("10.91.0.20 is running (5 s left)"), std::string::npos);
  EXPECT_EQ(start("10.1.1.1", 0, 2).error().code, api::ErrorCode::bad_request);
  EXPECT_EQ(start("10.1.1.1", api::kMaxTraceSeconds + 1, 2).error().code, api::ErrorCode::bad_request);

  tracer.stop(2);  // not its trace
  EXPECT_TRUE(tracer.active());
  tracer.stop(1);
  EXPECT_FALSE(tracer.active());
  EXPECT_EQ(tracing.trace_address(), std::nullopt);
  EXPECT_TRUE(lines.empty());  // a client that went away gets no trace_end
  EXPECT_TRUE(start("10.1.1.1", 5, 2));
}

TEST_F(TracerTest, WorkerRecordsAreBatchedDescribedAndEndedOnTime) {
  ASSERT_TRUE(start("10.91.0.21", 2));
  tracing.queued.push_back(worker_record("10.91.0.21:7000", "10.91.0.1:50001", dp::TraceOutcome::dropped,
                                         static_cast<uint16_t>(dp::CounterId::drop_no_permission)));
  tracer.poll(now + 50);
  EXPECT_TRUE(lines.empty());  // not before the batch interval
  tracer.poll(now + Tracer::kFlushInterval);
  const auto got = records();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].source, "worker 0");
  EXPECT_EQ(got[0].packet, "peer_data");
  EXPECT_EQ(got[0].decision, "dropped");
  EXPECT_EQ(got[0].reason, "drop_no_permission");
  EXPECT_EQ(got[0].from, "10.91.0.21:7000");
  EXPECT_EQ(got[0].allocation, 3u);
  EXPECT_DOUBLE_EQ(got[0].time, 1.5);

  tracer.poll(now + 2000);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(api::event_of(lines.back()), "trace_end");
  const auto end = api::decode_reply<api::TraceEnd>(lines.back(), "trace_end");
  EXPECT_EQ(end->reason, "elapsed");
  EXPECT_EQ(end->records, 1u);
  EXPECT_TRUE(done);
  EXPECT_FALSE(tracer.active());
  EXPECT_EQ(tracing.trace_address(), std::nullopt);
}

TEST_F(TracerTest, MoreThanTheRateIsCountedNotSent) {
  ASSERT_TRUE(start("10.91.0.21", 60));
  for (int i = 0; i < 25; ++i) tracing.queued.push_back(worker_record("10.91.0.21:7000", "10.91.0.1:50001", dp::TraceOutcome::relayed));
  tracing.suppressed = 4;  // the data plane could not record these
  tracer.poll(now + Tracer::kFlushInterval);
  auto batch = api::decode_reply<api::TraceBatch>(lines.back(), "trace");
  EXPECT_EQ(batch->records.size(), 10u);
  EXPECT_EQ(batch->suppressed, 15u + 4u);
  // A second later the bucket is full again.
  for (int i = 0; i < 25; ++i) tracing.queued.push_back(worker_record("10.91.0.21:7000", "10.91.0.1:50001", dp::TraceOutcome::relayed));
  tracer.poll(now + 1100);
  batch = api::decode_reply<api::TraceBatch>(lines.back(), "trace");
  EXPECT_EQ(batch->records.size(), 10u);
  EXPECT_EQ(batch->suppressed, 15u);
}

TEST_F(TracerTest, AClientThatCannotTakeMoreEndsTheTrace) {
  ASSERT_TRUE(start("10.91.0.21"));
  accept = false;
  tracing.queued.push_back(worker_record("10.91.0.21:7000", "10.91.0.1:50001", dp::TraceOutcome::relayed));
  tracer.poll(now + Tracer::kFlushInterval);
  EXPECT_FALSE(tracer.active());
  EXPECT_EQ(tracing.trace_address(), std::nullopt);
}

// The harness's client sends the control plane real requests; the answers are what it would see.
TEST_F(TracerTest, TheControlPlanesDecisionsShowForTheClientAndForThePeerItNames) {
  OperatorHarness o;
  Client a{o.h, "198.51.100.1:40000", "alice", "alice-password"};
  ASSERT_EQ(a.allocate().code(), 0);
  const auto request = a.build(stun::Method::create_permission,
                               [](stun::Builder& b) { b.add_xor_peer_address(ta("10.92.0.20:7000")); });
  const Answer answer = a.resend(request);
  ASSERT_EQ(answer.code(), 403);

  ASSERT_TRUE(start("10.92.0.20"));
  tracer.observe(a.five_tuple_of(), request, answer.bytes());
  // Nothing about this address: not recorded.
  const auto other = a.build(stun::Method::create_permission,
                             [](stun::Builder& b) { b.add_xor_peer_address(ta("192.0.2.50:1")); });
  tracer.observe(a.five_tuple_of(), other, {});
  tracer.poll(now + Tracer::kFlushInterval);
  const auto got = records();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].source, "control");
  EXPECT_EQ(got[0].packet, "CreatePermission request");
  EXPECT_EQ(got[0].decision, "error");
  EXPECT_EQ(got[0].reason, "403 Forbidden");
  EXPECT_EQ(got[0].next, "10.92.0.20:7000");
  EXPECT_EQ(got[0].from, "198.51.100.1:40000");
}

TEST(TraceRecords, ControlDecisionsAnsweredRefusedOrUnanswered) {
  OperatorHarness o;
  Client a{o.h, "198.51.100.1:40000", "alice", "alice-password"};
  const auto request = a.build(stun::Method::allocate, udp_transport, {.no_credentials = true});
  const Answer challenge = a.resend(request);
  ASSERT_EQ(challenge.code(), 401);
  const auto five_tuple = a.five_tuple_of();

  const auto refused = control_decision(ip("198.51.100.1"), five_tuple, request, challenge.bytes(), o.h.engine());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, 401);
  EXPECT_EQ(describe(*refused).reason, "401 Unauthenticated");
  EXPECT_EQ(describe(*refused).packet, "Allocate request");

  const auto silent = control_decision(ip("198.51.100.1"), five_tuple, request, {}, o.h.engine());
  EXPECT_EQ(describe(*silent).decision, "dropped");
  EXPECT_FALSE(control_decision(ip("198.51.100.9"), five_tuple, request, {}, o.h.engine()));

  ASSERT_EQ(a.allocate().code(), 0);
  const auto bind = a.build(stun::Method::channel_bind, [](stun::Builder& b) {
    b.add_channel_number({0x4000});
    b.add_xor_peer_address(ta("192.0.2.60:9"));
  });
  const Answer bound = a.resend(bind);
  ASSERT_EQ(bound.code(), 0);
  const auto ok = control_decision(ip("192.0.2.60"), five_tuple, bind, bound.bytes(), o.h.engine());
  ASSERT_TRUE(ok);
  EXPECT_EQ(describe(*ok).decision, "answered");
  EXPECT_EQ(describe(*ok).packet, "ChannelBind request");
  EXPECT_EQ(describe(*ok).next, "192.0.2.60:9");
}

}  // namespace
}  // namespace tern::ctl::test
