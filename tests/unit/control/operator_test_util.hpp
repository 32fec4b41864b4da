#pragma once
// The operator core's tests: the control plane harness (control_test_util.hpp) loaded from a
// configuration file on disk (so reload has something to re-read), a fake data plane (Stats,
// ControlIo) with counters the test sets, and an OperatorCommands over all of it.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "conf/load.hpp"
#include "control/operator/commands.hpp"
#include "control/operator/traffic_baselines.hpp"
#include "dataplane/contract/control_io.hpp"
#include "dataplane/contract/stats.hpp"
#include "dataplane/contract/trace.hpp"
#include "tests/unit/control/control_test_util.hpp"

namespace tern::ctl::test {

class FakeStats final : public dp::Stats {
 public:
  unsigned workers() const override { return static_cast<unsigned>(per_worker.size()); }
  dp::CounterValues worker_counters(unsigned worker) const override { return per_worker.at(worker); }
  dp::AllocationTrafficValues allocation_traffic(dp::AllocId id) const override {
    const auto it = traffic.find(id);
    return it == traffic.end() ? dp::AllocationTrafficValues{} : it->second;
  }
  void set(unsigned worker, dp::CounterId id, uint64_t value) { per_worker.at(worker)[static_cast<size_t>(id)] = value; }

  std::vector<dp::CounterValues> per_worker = std::vector<dp::CounterValues>(2);
  std::map<dp::AllocId, dp::AllocationTrafficValues> traffic;
};

class FakeControlIo final : public dp::ControlIo {
 public:
  dp::TableTime now() const override { return 1; }
  size_t receive(std::span<dp::PuntedMessage>) override { return 0; }
  dp::SendResult reply(const dp::PuntedMessage&, std::span<const uint8_t>) override { return dp::SendResult::sent; }
  dp::SendResult send(const TransportAddress&, const TransportAddress&, std::span<const uint8_t>) override {
    return dp::SendResult::sent;
  }
  void release(dp::PuntHandle) override {}
  dp::ControlCounterValues counters() const override { return values; }

  dp::ControlCounterValues values{};
};

// The data plane's trace as a test drives it: records are queued by the test (the workers') or by
// append_trace (the control plane's, kept when they concern the traced address, as the data plane
// does).
class FakeTracing final : public dp::Tracing {
 public:
  void set_trace(const std::optional<IpAddress>& address) override {
    address_ = address;
    history.push_back(address);
  }
  std::optional<IpAddress> trace_address() const override { return address_; }
  size_t read_trace(std::span<dp::TraceRecord> out) override {
    size_t n = 0;
    while (n < out.size() && !queued.empty()) {
      out[n++] = queued.front();
      queued.erase(queued.begin());
    }
    return n;
  }
  void append_trace(const dp::TraceRecord& record) override {
    if (address_ && (record.from.ip == *address_ || record.to.ip == *address_ || record.next.ip == *address_))
      queued.push_back(record);
  }
  uint64_t trace_suppressed() const override { return suppressed; }

  std::vector<dp::TraceRecord> queued;
  std::vector<std::optional<IpAddress>> history;
  uint64_t suppressed = 0;

 private:
  std::optional<IpAddress> address_;
};

// The harness's configuration as a file: the same realm, listener, relay addresses, users and
// secret control_test_util.hpp's clients use; the parts tests change.
struct ConfigText {
  std::string relay_ports = "min = 50000; max = 50199;";
  std::string relay_external = "";
  std::string peers_allow = R"("192.0.2.0/24")";
  std::string extra = "";  // more settings at the end
};

inline std::string operator_config(const ConfigText& t = {}) {
  return std::string(R"(
realm = "example.org";
software = "tern-test";
listen = { udp = [ "192.0.2.1:3478" ]; };
relay = { addresses = [ "192.0.2.10", "192.0.2.11" ]; ports = { )") + t.relay_ports + " }; external = ( " +
         t.relay_external + R"( ); };
auth = {
  users = ( { name = "alice"; password = "alice-password"; },
            { name = "bob"; password = "bob-password"; },
            { name = "carol"; key = "0123456789abcdef0123456789abcdef"; } );
  secrets = [ "north-secret" ];
};
peers = { allow = [ )" + t.peers_allow + R"( ]; };
control = { socket = "/run/tern-test/ternd.sock"; metrics = ""; };
dataplane = {
  ports = ( { device = "0000:3b:00.0"; addresses = [ "192.0.2.1/24", "192.0.2.10/24", "192.0.2.11/24" ];
              gateway = "192.0.2.254"; } );
  table_size = 64;
};
)" + t.extra;
}

// A directory of its own, removed at the end.
class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/tern-operator-test-XXXXXX";
    path_ = mkdtemp(path);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline conf::Config load_config(const std::string& text) {
  std::vector<std::string> errors;
  auto config = conf::load_string(text, "test.conf", errors);
  for (const auto& e : errors) ADD_FAILURE() << e;
  return config.value_or(conf::Config{});
}

class OperatorHarness {
 public:
  explicit OperatorHarness(const ConfigText& text = {})
      : text_(operator_config(text)),
        h([this](conf::Config& c) { c = load_config(text_); }),
        baselines(h.writer, stats, 64),
        op(h.plane(), h.engine(), h.logger(), stats, io, baselines, dir.file("ternd.conf"), h.config, h.now) {
    write_config(text_);
  }

  void write_config(const std::string& text) { std::ofstream(dir.file("ternd.conf")) << text; }

  template <typename Request>
  auto run(const Request& request, Caller caller = {1000, 42, "socket"}) {
    return op.handle(request, caller, h.now);
  }

 private:
  std::string text_;

 public:
  TempDir dir;
  Harness h;
  FakeStats stats;
  FakeControlIo io;
  TrafficBaselines baselines;
  OperatorCommands op;
};

}  // namespace tern::ctl::test
