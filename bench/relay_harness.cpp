// tern-bench: the relay throughput harness. The worker loop ternd runs (dp::Runtime: EAL, ports,
// pools, tables, one worker per lcore but the main one) over a DPDK vdev port, fed a pcap of the
// traffic mix (bench/mix.hpp) by net_pcap's infinite_rx mode: the PMD keeps the pcap's frames in
// mbufs and copies them into fresh mbufs on every RX burst, so the input never runs dry and the
// worker runs flat out. Transmitted packets go to net_pcap's drop TX queues (freed one by one, like
// a NIC's TX completion). dpdk-testpmd on the same pcap and the same port arguments gives the
// ceiling (bench/run).
//
//   tern-bench pcap   --out FILE --allocations N [--packets P] [--frame-size B] [--indications PCT]
//   tern-bench relay  --pcap FILE --allocations N [--seconds S] [--latency-seconds L] [--no-huge]
//   tern-bench memory --allocations N [--workers W] [--no-huge]
//
// relay prints one JSON object: the worker's packets per second in 1-second windows (from its
// rx_packets counter), what each fast path relayed, every drop counter that moved, and the added
// latency (bench/latency.hpp). It writes "tern-bench: steady" to stderr when the windows start.

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench/latency.hpp"
#include "bench/memory.hpp"
#include "bench/mix.hpp"
#include "dataplane/setup/runtime.hpp"

namespace tern::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

struct Args {
  std::map<std::string, std::string> values;
  std::vector<std::string> flags;
  bool has(const std::string& flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
  }
  std::string get(const std::string& key, const std::string& fallback = "") const {
    const auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  double number(const std::string& key, double fallback) const {
    const auto it = values.find(key);
    return it == values.end() ? fallback : std::stod(it->second);
  }
};

Args parse(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) continue;
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      a.values[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      a.values[arg.substr(2)] = argv[++i];
    } else {
      a.flags.push_back(arg.substr(2));
    }
  }
  return a;
}

std::vector<std::string> eal_args(bool huge, const std::string& tag) {
  std::vector<std::string> eal = {"-l", "0-1", "--no-pci", "--file-prefix",
                                  tag + std::to_string(getpid()), "--log-level", "error"};
  if (huge) {
    eal.push_back("--in-memory");
  } else {
    eal.insert(eal.end(), {"--no-huge", "--no-shconf", "-m", "3072"});
  }
  return eal;
}

// Frames in a pcap file (its record headers walked, nothing else read).
bool count_frames(const std::string& path, uint64_t& frames) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  frames = 0;
  bool ok = std::fseek(f, 24, SEEK_SET) == 0;
  uint32_t record[4];
  while (ok && std::fread(record, sizeof(record), 1, f) == 1) {
    ++frames;
    ok = std::fseek(f, record[2], SEEK_CUR) == 0;
  }
  std::fclose(f);
  return ok;
}

// The control lcore's share of the work while the worker runs: drain the punt rings (ARP from
// the gateway is learnt there) about every millisecond, as ternd's control loop does.
void serve(dp::ControlIo& io, Clock::duration d) {
  std::array<dp::PuntedMessage, 32> punted;
  const auto until = Clock::now() + d;
  while (Clock::now() < until && !g_stop.load()) {
    const size_t n = io.receive(punted);
    for (size_t i = 0; i < n; ++i) io.release(punted[i].handle);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

uint64_t value(const dp::CounterValues& v, dp::CounterId id) { return v[static_cast<size_t>(id)]; }

// The time a thread has spent on a CPU, in ns (/proc/<pid>/task/<tid>/schedstat, first field).
// On a shared machine the worker's lcore is time-sliced with whatever else runs there: packets per
// second of this time is the rate the worker sustains while it runs, whoever else wants the core.
class ThreadCpu {
 public:
  // The EAL names its worker threads rte-worker-<lcore> (lcore-worker-<lcore> before 22.11).
  bool find(unsigned lcore) {
    const std::string names[] = {"rte-worker-" + std::to_string(lcore), "lcore-worker-" + std::to_string(lcore)};
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      if (name == names[0] || name == names[1]) {
        path_ = task.path() / "schedstat";
        return true;
      }
    }
    return false;
  }
  uint64_t run_ns() const {
    std::ifstream f(path_);
    uint64_t ns = 0;
    f >> ns;
    return ns;
  }

 private:
  std::filesystem::path path_;
};

int cmd_pcap(const Args& a) {
  MixConfig c;
  c.allocations = static_cast<uint32_t>(a.number("allocations", c.allocations));
  c.packets = static_cast<uint32_t>(a.number("packets", c.packets));
  c.frame_len = static_cast<uint16_t>(a.number("frame-size", c.frame_len));
  c.indication_percent = static_cast<unsigned>(a.number("indications", c.indication_percent));
  c.seed = static_cast<uint64_t>(a.number("seed", static_cast<double>(c.seed)));
  const std::string out = a.get("out");
  if (out.empty()) {
    std::fprintf(stderr, "tern-bench pcap: --out FILE is required\n");
    return 2;
  }
  MixCounts n;
  std::string error;
  if (!write_pcap(c, out, n, error)) {
    std::fprintf(stderr, "tern-bench pcap: %s\n", error.c_str());
    return 1;
  }
  std::printf(
      "{\"pcap\": \"%s\", \"allocations\": %u, \"frames\": %llu, \"frame_len\": %u, "
      "\"indication_percent\": %u, \"channel_data_to_peer\": %llu, \"send_to_peer\": %llu, "
      "\"channel_data_to_client\": %llu, \"data_indication_to_client\": %llu, \"arp\": %llu}\n",
      out.c_str(), c.allocations, static_cast<unsigned long long>(n.total()), c.frame_len,
      c.indication_percent, static_cast<unsigned long long>(n.channel_data_to_peer),
      static_cast<unsigned long long>(n.send_to_peer),
      static_cast<unsigned long long>(n.channel_data_to_client),
      static_cast<unsigned long long>(n.data_indication_to_client),
      static_cast<unsigned long long>(n.arp));
  return 0;
}

int cmd_relay(const Args& a) {
  const std::string pcap = a.get("pcap");
  const auto allocations = static_cast<uint32_t>(a.number("allocations", 0));
  const auto windows = static_cast<unsigned>(a.number("seconds", 5));
  const double latency_seconds = a.number("latency-seconds", 2);
  const bool huge = !a.has("no-huge");
  uint64_t frames = 0;
  if (pcap.empty() || allocations == 0 || !count_frames(pcap, frames) || frames == 0) {
    std::fprintf(stderr, "tern-bench relay: --pcap FILE (readable, not empty) and --allocations N are required\n");
    return 2;
  }
  // The PMD holds every frame of the pcap in an mbuf of the pool for the whole run; 16383 more
  // for the packets in flight (bench/relay.py gives testpmd the same number).
  const auto mbufs = static_cast<uint32_t>(frames + 16383);
  const std::string device = "net_pcap0,rx_pcap=" + pcap + ",rx_pcap=" + pcap + ",infinite_rx=1";
  // Two rx_pcap arguments give the port two queue pairs (net_pcap has as many TX queues as RX
  // queues when no tx_* argument is given, and drops what they are handed): the worker's and the
  // control lcore's TX queue. The worker polls RX queue 0 only.
  const dp::RuntimeConfig config = runtime_config(allocations, device, eal_args(huge, "tern-bench-"), mbufs);

  std::string error;
  auto rt = dp::Runtime::start(config, error);
  if (!rt) {
    std::fprintf(stderr, "tern-bench relay: %s%s\n", error.c_str(),
                 huge ? " (are hugepages reserved?)" : "");
    return 1;
  }
  uint16_t port = 0;
  rte_ether_addr mac{};
  if (rte_eth_dev_get_port_by_name("net_pcap0", &port) != 0 || rte_eth_macaddr_get(port, &mac) != 0 ||
      dp::load_mac(mac.addr_bytes) != kPcapPortMac) {
    std::fprintf(stderr, "tern-bench relay: net_pcap0 does not have the MAC address the pcap is addressed to\n");
    return 1;
  }

  const auto publish_start = Clock::now();
  if (!publish(rt->tables(), allocations, 1'000'000'000, error)) {
    std::fprintf(stderr, "tern-bench relay: %s\n", error.c_str());
    return 1;
  }
  const double publish_s = std::chrono::duration<double>(Clock::now() - publish_start).count();

  // Until the gateway is learnt the worker drops its output (no neighbour); then warm up.
  const auto learn_deadline = Clock::now() + std::chrono::seconds(10);
  while (rt->io().counters()[static_cast<size_t>(dp::ControlCounterId::arp_learned)] == 0) {
    if (Clock::now() > learn_deadline || g_stop.load()) {
      std::fprintf(stderr, "tern-bench relay: the gateway's ARP request was never learnt\n");
      return 1;
    }
    serve(rt->io(), std::chrono::milliseconds(10));
  }
  serve(rt->io(), std::chrono::seconds(1));

  ThreadCpu cpu;
  if (!cpu.find(rte_get_next_lcore(-1, 1, 0))) {
    std::fprintf(stderr, "tern-bench relay: cannot find the worker thread in /proc/self/task\n");
    return 1;
  }
  std::fprintf(stderr, "tern-bench: steady\n");
  const dp::CounterValues first = rt->worker_counters(0);
  std::vector<double> mpps, mpps_cpu, share;
  dp::CounterValues before = first;
  auto t0 = Clock::now();
  uint64_t c0 = cpu.run_ns();
  for (unsigned w = 0; w < windows && !g_stop.load(); ++w) {
    serve(rt->io(), std::chrono::seconds(1));
    const dp::CounterValues after = rt->worker_counters(0);
    const uint64_t c1 = cpu.run_ns();
    const auto t1 = Clock::now();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    const auto packets = static_cast<double>(value(after, dp::CounterId::rx_packets) -
                                             value(before, dp::CounterId::rx_packets));
    mpps.push_back(packets / s / 1e6);
    mpps_cpu.push_back(c1 > c0 ? packets / static_cast<double>(c1 - c0) * 1e3 : 0.0);
    share.push_back(static_cast<double>(c1 - c0) / 1e9 / s);
    before = after;
    t0 = t1;
    c0 = c1;
  }
  const dp::CounterValues last = before;

  LatencyProbe probe;
  LatencySummary latency;
  double latency_phase_mpps = 0;
  if (latency_seconds > 0 && !g_stop.load()) {
    if (!probe.init(error) || !probe.attach(port, 0, 0, error)) {
      std::fprintf(stderr, "tern-bench relay: %s\n", error.c_str());
      return 1;
    }
    const auto l0 = Clock::now();
    const uint64_t rx0 = value(rt->worker_counters(0), dp::CounterId::rx_packets);
    serve(rt->io(), std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(latency_seconds)));
    latency_phase_mpps = static_cast<double>(value(rt->worker_counters(0), dp::CounterId::rx_packets) - rx0) /
                         std::chrono::duration<double>(Clock::now() - l0).count() / 1e6;
    probe.detach();
    serve(rt->io(), std::chrono::milliseconds(50));
    latency = probe.summary(rte_get_tsc_hz());
  }
  const unsigned workers = rt->workers();
  rt->stop();

  auto median_of = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  auto print_list = [](const char* name, const std::vector<double>& v) {
    std::printf(" \"%s\": [", name);
    for (size_t i = 0; i < v.size(); ++i) std::printf("%s%.4f", i ? ", " : "", v[i]);
    std::printf("],");
  };
  const double median = median_of(mpps);
  const double median_cpu = median_of(mpps_cpu);
  std::printf("{\"allocations\": %u, \"pcap\": \"%s\", \"pcap_frames\": %llu, \"hugepages\": %s, "
              "\"workers\": %u, \"publish_seconds\": %.3f, \"tsc_hz\": %llu,\n",
              allocations, pcap.c_str(), static_cast<unsigned long long>(frames), huge ? "true" : "false",
              workers, publish_s, static_cast<unsigned long long>(rte_get_tsc_hz()));
  print_list("mpps_windows", mpps);
  print_list("mpps_cpu_windows", mpps_cpu);
  print_list("cpu_share_windows", share);
  std::printf("\n \"mpps\": %.4f, \"mpps_cpu\": %.4f, \"ns_per_packet_cpu\": %.2f,\n", median, median_cpu,
              median_cpu > 0 ? 1e3 / median_cpu : 0.0);
  std::printf(" \"counters\": {");
  bool comma = false;
  for (size_t i = 0; i < dp::kCounterCount; ++i) {
    const uint64_t d = last[i] - first[i];
    if (d == 0) continue;
    std::printf("%s\"%s\": %llu", comma ? ", " : "", std::string(dp::kCounterNames[i]).c_str(),
                static_cast<unsigned long long>(d));
    comma = true;
  }
  std::printf("},\n \"latency_ns\": {\"samples\": %llu, \"p50\": %.0f, \"p90\": %.0f, \"p99\": %.0f, "
              "\"p999\": %.0f, \"max\": %.0f, \"mpps_while_stamping\": %.4f, \"cdf\": [",
              static_cast<unsigned long long>(latency.samples), latency.p50_ns, latency.p90_ns,
              latency.p99_ns, latency.p999_ns, latency.max_ns, latency_phase_mpps);
  for (size_t i = 0; i < latency.cdf.size(); ++i)
    std::printf("%s[%.4f, %.0f]", i ? ", " : "", latency.cdf[i].first, latency.cdf[i].second);
  std::printf("]}}\n");
  return 0;
}

constexpr const char* kUsage =
    "usage: tern-bench pcap   --out FILE --allocations N [--packets P] [--frame-size B] [--indications PCT]\n"
    "       tern-bench relay  --pcap FILE --allocations N [--seconds S] [--latency-seconds L] [--no-huge]\n"
    "       tern-bench memory --allocations N [--workers W] [--no-huge]\n";

}  // namespace
}  // namespace tern::bench

int main(int argc, char** argv) {
  using namespace tern::bench;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::signal(SIGINT, [](int) { g_stop.store(true); });
  std::signal(SIGTERM, [](int) { g_stop.store(true); });
  const std::string cmd = argv[1];
  const Args args = parse(argc, argv, 2);
  if (cmd == "pcap") return cmd_pcap(args);
  if (cmd == "relay") return cmd_relay(args);
  if (cmd == "memory") {
    return memory_report(static_cast<uint32_t>(args.number("allocations", 1'000'000)),
                         static_cast<unsigned>(args.number("workers", 1)),
                         eal_args(!args.has("no-huge"), "tern-bench-mem-"));
  }
  std::fputs(kUsage, stderr);
  return 2;
}
