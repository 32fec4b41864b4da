// The metrics endpoint: every line of the exposition is valid text format 0.0.4, every counter of
// the three X-macro lists is there under its documented name, no label can grow without bound,
// and the HTTP server answers GET /metrics on the EventLoop and refuses everything else.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "control/operator/metrics.hpp"
#include "control/operator/metrics_http.hpp"
#include "tests/unit/control/socket_test_util.hpp"

namespace tern::ctl::test {
namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string value;
};

// Parses an exposition, failing the test on any line that is not format 0.0.4; returns the
// samples and each family's type.
std::vector<Sample> parse(const std::string& text, std::map<std::string, std::string>& types) {
  static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([-+]?[0-9.eE+-]+|NaN|[+-]Inf)$)");
  static const std::regex kLabel(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$))re");
  std::vector<Sample> out;
  std::set<std::string> helped;
  std::set<std::string> finished;  // families whose samples are done: seeing one again is an error
  std::string current;
  std::set<std::string> series;
  std::istringstream in(text);
  std::string line;
  EXPECT_EQ(text.back(), '\n');
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) {
      EXPECT_TRUE(helped.insert(m[1]).second) << "two HELP lines for " << m[1];
      continue;
    }
    if (std::regex_match(line, m, kType)) {
      EXPECT_TRUE(helped.count(m[1])) << "TYPE before HELP: " << line;
      EXPECT_FALSE(types.count(m[1])) << "two TYPE lines for " << m[1];
      types[m[1]] = m[2];
      if (!current.empty()) finished.insert(current);
      current = m[1];
      EXPECT_FALSE(finished.count(current)) << "family " << current << " appears twice";
      continue;
    }
    if (!std::regex_match(line, m, kSample)) {
      ADD_FAILURE() << "not an exposition line: " << line;
      continue;
    }
    Sample s{m[1], {}, m[4]};
    EXPECT_EQ(s.name, current) << "sample outside its family: " << line;
    const std::string labels = m[3];
    for (auto it = std::sregex_iterator(labels.begin(), labels.end(), kLabel); it != std::sregex_iterator(); ++it)
      s.labels[(*it)[1]] = (*it)[2];
    EXPECT_TRUE(series.insert(s.name + "{" + labels + "}").second) << "duplicate series " << line;
    if (types[s.name] == "counter") {
      EXPECT_TRUE(s.name.ends_with("_total")) << s.name;
    }
    out.push_back(std::move(s));
  }
  return out;
}

const Sample* find(const std::vector<Sample>& samples, std::string_view name,
                   const std::map<std::string, std::string>& labels = {}) {
  for (const auto& s : samples)
    if (s.name == name && s.labels == labels) return &s;
  return nullptr;
}

MetricsSnapshot snapshot() {
  MetricsSnapshot s;
  s.version = "9.9.9";
  s.uptime = 42;
  s.tsc_hz = 2'000'000'000;
  s.workers.resize(2);
  s.workers[0][static_cast<size_t>(dp::CounterId::rx_packets)] = 100;
  s.workers[1][static_cast<size_t>(dp::CounterId::rx_packets)] = 50;
  s.workers[1][static_cast<size_t>(dp::CounterId::drop_no_permission)] = 3;
  s.rings = {{.punt = 5, .punt_capacity = 1023}, {.hold = 2, .hold_capacity = 511}};
  s.busy_ratio = {0.25, 0.5};
  s.control_io[static_cast<size_t>(dp::ControlCounterId::replies_sent)] = 7;
  s.control_plane[static_cast<size_t>(Counter::requests_allocate)] = 11;
  s.control_plane[static_cast<size_t>(Counter::responses_401)] = 4;
  s.control_plane[static_cast<size_t>(Counter::auth_bad_integrity)] = 2;
  s.control_plane[static_cast<size_t>(Counter::auth_challenges)] = 9;
  s.control_plane[static_cast<size_t>(Counter::unauthenticated_rate_limited)] = 6;
  s.control_plane[static_cast<size_t>(Counter::allocations_live)] = 8;
  s.pools = {{"tern_pool_0", 0, 16383, 300}};
  dp::PortStats p;
  p.device = "net_af_packet0,iface=\"weird\\name\"";
  p.driver = "net_af_packet";
  p.link_up = true;
  p.speed_mbps = 10000;
  p.rx_packets = 1000;
  p.rx_missed = 12;
  s.ports = {p};
  return s;
}

TEST(Metrics, EveryLineIsExpositionFormatAndEveryCounterIsThere) {
  std::map<std::string, std::string> types;
  const auto samples = parse(render_metrics(snapshot()), types);

  // Every counter of every list, under its name.
  for (size_t i = 0; i < dp::kCounterCount; ++i) {
    const std::string name(dp::kCounterNames[i]);
    if (name.starts_with("drop_"))
      EXPECT_TRUE(find(samples, "tern_dataplane_dropped_packets_total", {{"worker", "0"}, {"reason", name.substr(5)}}))
          << name;
    else
      EXPECT_TRUE(find(samples, "tern_dataplane_" + name + "_total", {{"worker", "1"}})) << name;
  }
  for (size_t i = 0; i < dp::kControlCounterCount; ++i)
    EXPECT_TRUE(find(samples, "tern_control_io_" + std::string(dp::kControlCounterNames[i]) + "_total"));
  size_t control = 0;
  for (const auto& s : samples)
    if (!s.name.starts_with("tern_dataplane_") && !s.name.starts_with("tern_control_io_") &&
        !s.name.starts_with("tern_port_") && !s.name.starts_with("tern_worker_") &&
        !s.name.starts_with("tern_mempool_"))
      ++control;
  EXPECT_EQ(control, kCounterCount + 4);  // and build_info, uptime, workers, tsc_hz

  EXPECT_EQ(types["tern_dataplane_rx_packets_total"], "counter");
  EXPECT_EQ(types["tern_allocations_live"], "gauge");
  EXPECT_EQ(types["tern_worker_busy_ratio"], "gauge");
  EXPECT_EQ(types["tern_port_link_up"], "gauge");
}

TEST(Metrics, ValuesAndLabelsAreTheSnapshots) {
  std::map<std::string, std::string> types;
  const auto samples = parse(render_metrics(snapshot()), types);
  auto value = [&](std::string_view name, const std::map<std::string, std::string>& labels = {}) {
    const Sample* s = find(samples, name, labels);
    EXPECT_NE(s, nullptr) << name;
    return s ? s->value : std::string();
  };
  EXPECT_EQ(value("tern_build_info", {{"version", "9.9.9"}}), "1");
  EXPECT_EQ(value("tern_uptime_seconds"), "42");
  EXPECT_EQ(value("tern_workers"), "2");
  EXPECT_EQ(value("tern_dataplane_rx_packets_total", {{"worker", "0"}}), "100");
  EXPECT_EQ(value("tern_dataplane_rx_packets_total", {{"worker", "1"}}), "50");
  EXPECT_EQ(value("tern_dataplane_dropped_packets_total", {{"worker", "1"}, {"reason", "no_permission"}}), "3");
  EXPECT_EQ(value("tern_control_io_replies_sent_total"), "7");
  EXPECT_EQ(value("tern_requests_total", {{"method", "allocate"}}), "11");
  EXPECT_EQ(value("tern_responses_total", {{"code", "401"}}), "4");
  EXPECT_EQ(value("tern_responses_total", {{"code", "success"}}), "0");
  EXPECT_EQ(value("tern_auth_failures_total", {{"reason", "bad_integrity"}}), "2");
  EXPECT_EQ(value("tern_auth_challenges_total"), "9");
  EXPECT_EQ(value("tern_unauthenticated_rate_limited_total"), "6");
  EXPECT_EQ(value("tern_allocations_live"), "8");
  EXPECT_EQ(value("tern_worker_busy_ratio", {{"worker", "1"}}), "0.500000");
  EXPECT_EQ(value("tern_worker_punt_ring", {{"worker", "0"}}), "5");
  EXPECT_EQ(value("tern_worker_hold_ring", {{"worker", "1"}}), "2");
  EXPECT_EQ(value("tern_mempool_in_use", {{"pool", "tern_pool_0"}, {"socket", "0"}}), "300");
  EXPECT_EQ(value("tern_port_rx_missed_total", {{"port", "0"}}), "12");
  EXPECT_EQ(value("tern_port_link_up", {{"port", "0"}}), "1");
  // Quotes and backslashes in a label value are escaped.
  EXPECT_EQ(value("tern_port_info", {{"port", "0"}, {"device", R"(net_af_packet0,iface=\"weird\\name\")"},
                                      {"driver", "net_af_packet"}}),
            "1");
  // Nothing per user or per client.
  for (const auto& s : samples)
    for (const auto& [k, v] : s.labels)
      EXPECT_TRUE(k == "worker" || k == "reason" || k == "method" || k == "code" || k == "version" || k == "port" ||
                  k == "device" || k == "driver" || k == "pool" || k == "socket")
          << k;
}

class MetricsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(http.open(*TransportAddress::parse("127.0.0.1:0"), error)) << error;
    ASSERT_NE(http.port(), 0);
  }
  // One HTTP exchange; the whole response.
  std::string exchange(std::string_view request) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(http.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    LoopClient c(loop, fd);
    EXPECT_TRUE(c.write(request));
    EXPECT_TRUE(c.closed());
    return c.buffer();
  }

  EventLoop loop;
  Logger logger;
  int renders = 0;
  MetricsHttp http{loop, logger, [this] {
                     ++renders;
                     return render_metrics(snapshot());
                   }};
};

TEST_F(MetricsHttpTest, GetMetrics) {
  const std::string r = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r.substr(0, 100);
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(r.find("\r\n\r\n# HELP tern_build_info"), std::string::npos);
  EXPECT_EQ(renders, 1);
  EXPECT_EQ(http.scrapes(), 1u);
}

TEST_F(MetricsHttpTest, HealthzAndNothingElse) {
  EXPECT_NE(exchange("GET /healthz HTTP/1.0\r\n\r\n").find("200 OK"), std::string::npos);
  EXPECT_NE(exchange("GET /admin HTTP/1.0\r\n\r\n").find("404 Not Found"), std::string::npos);
  const std::string post = exchange("POST /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_NE(post.find("405 Method Not Allowed"), std::string::npos);
  EXPECT_NE(post.find("Allow: GET, HEAD"), std::string::npos);
  // Not HTTP: answered 400 or closed, never served.
  const std::string garbage = exchange("garbage\r\n\r\n");
  EXPECT_TRUE(garbage.empty() || garbage.find("400 Bad Request") != std::string::npos) << garbage;
  EXPECT_EQ(renders, 0);
}

TEST_F(MetricsHttpTest, AnAddressInUseIsRefused) {
  MetricsHttp other(loop, logger, [] { return std::string(); });
  std::string error;
  EXPECT_FALSE(other.open(*TransportAddress::parse("127.0.0.1:" + std::to_string(http.port())), error));
  EXPECT_NE(error.find("cannot serve metrics"), std::string::npos);
}

}  // namespace
}  // namespace tern::ctl::test
