// libFuzzer target for the worker: every frame of the wire, as a NIC hands it over, through
// classify, the fast paths, the local answers, the punt, hold, exception and stream rings
// (dataplane/worker/, dataplane/wire/), against real tables holding allocations, permissions and
// channels of both families and two TCP/TLS clients' slots (worker_layout.hpp).
//
// Each input is one burst (worker_input.hpp: frames on either port and on the from_stream ring,
// with the RX checksum flags a NIC sets, and optionally a running trace). It runs through two
// identical data planes: one worker takes the burst through its bulk path (bulk lookups, the
// scalar tail), the other through the scalar path, the reference implementation. Then:
//   - both must have sent, punted, held and handed over the same packets, byte for byte, and
//     moved the same counters and per-allocation traffic (a difference is a finding);
//   - every packet buffer must be back in each plane's pool once what the worker put on its
//     TX, punt, hold, exception and to_stream rings is taken (an mbuf leak or double free);
//   - AddressSanitizer and UndefinedBehaviorSanitizer watch every byte the worker reads or writes.
// Any of these aborts. At exit the target prints, for every worker counter, how many packets and
// how many inputs reached it (the coverage per path; tests/fuzz/README.md quotes it), and every
// TERN_FUZZ_REPORT_EVERY inputs when that is set.

#include <rte_eal.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "dataplane/contract/control_io.hpp"
#include "dataplane/contract/counters.hpp"
#include "tests/fuzz/worker_input.hpp"
#include "tests/fuzz/worker_layout.hpp"
#include "tests/fuzz/worker_plane.hpp"

namespace {

using namespace tern;
using namespace tern::fuzz;

std::unique_ptr<WorkerPlane> g_bulk;
std::unique_ptr<WorkerPlane> g_scalar;
uint64_t g_inputs = 0;
uint64_t g_tsc = uint64_t{kNow - 1} * kTscHz;  // the planes' TSC: table second kNow of Clock{kTscHz, 0}
std::array<uint64_t, dp::kCounterCount> g_inputs_per_counter{};
std::array<uint64_t, dp::kPuntReasonCount> g_inputs_per_punt{};
dp::CounterValues g_before{};
std::array<uint64_t, Emitted::kWheres> g_taken{};  // packets taken back, by where
uint64_t g_trace_records = 0;
uint64_t g_report_every = 0;  // TERN_FUZZ_REPORT_EVERY: also report every so many inputs

constexpr dp::AllocId kAllocations[] = {kAlloc, kAlloc2, kAlloc6, kAlloc46, kAlloc64, kAlloc6b,
                                        kAllocOld, kStream4, kStream6};

const char* where_name(Emitted::Where w) {
  switch (w) {
    case Emitted::Where::tx: return "tx";
    case Emitted::Where::punt: return "punt";
    case Emitted::Where::hold: return "hold";
    case Emitted::Where::exception: return "exception";
    case Emitted::Where::to_stream: return "to_stream";
  }
  return "?";
}

void dump(const char* name, const Emitted& e) {
  std::fprintf(stderr, "  %s: %s port %u queue %u reason %u ol_flags %#llx l2 %llu l3 %llu stream %u/%u, %zu bytes:",
               name, where_name(e.where), e.port, e.queue, e.reason,
               static_cast<unsigned long long>(e.ol_flags), static_cast<unsigned long long>(e.l2_len),
               static_cast<unsigned long long>(e.l3_len), e.allocation, e.stream, e.bytes.size());
  for (size_t i = 0; i < e.bytes.size(); ++i) std::fprintf(stderr, "%s%02x", i % 32 ? " " : "\n    ", e.bytes[i]);
  std::fprintf(stderr, "\n");
}

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_worker: FINDING: %s\n", what);
  std::abort();
}

dp::CounterValues values(const WorkerPlane& plane) {
  dp::CounterValues v{};
  dp::accumulate(v, plane.counters());
  return v;
}

// The bulk path and the scalar reference must agree on everything they did.
void compare(const Outputs& bulk, const Outputs& scalar) {
  const size_t n = std::min(bulk.packets.size(), scalar.packets.size());
  for (size_t i = 0; i < n; ++i) {
    if (bulk.packets[i] == scalar.packets[i]) continue;
    std::fprintf(stderr, "fuzz_worker: packet %zu differs\n", i);
    dump("bulk", bulk.packets[i]);
    dump("scalar", scalar.packets[i]);
    finding("the bulk path and the scalar path sent different packets");
  }
  if (bulk.packets.size() != scalar.packets.size()) {
    std::fprintf(stderr, "fuzz_worker: bulk let go of %zu packets, scalar %zu\n", bulk.packets.size(),
                 scalar.packets.size());
    for (size_t i = n; i < bulk.packets.size(); ++i) dump("bulk only", bulk.packets[i]);
    for (size_t i = n; i < scalar.packets.size(); ++i) dump("scalar only", scalar.packets[i]);
    finding("the bulk path and the scalar path sent different numbers of packets");
  }
  if (bulk.trace_records != scalar.trace_records) finding("different numbers of trace records");
  const dp::CounterValues a = values(*g_bulk);
  const dp::CounterValues b = values(*g_scalar);
  for (size_t i = 0; i < dp::kCounterCount; ++i) {
    if (a[i] == b[i]) continue;
    std::fprintf(stderr, "fuzz_worker: counter %s: bulk %llu, scalar %llu\n",
                 std::string(dp::kCounterNames[i]).c_str(), static_cast<unsigned long long>(a[i]),
                 static_cast<unsigned long long>(b[i]));
    finding("the bulk path and the scalar path counted differently");
  }
  for (dp::AllocId id : kAllocations) {
    const dp::AllocationTrafficValues x = g_bulk->traffic(id);
    const dp::AllocationTrafficValues y = g_scalar->traffic(id);
    if (x.bytes_to_peer != y.bytes_to_peer || x.bytes_to_client != y.bytes_to_client ||
        x.packets_to_peer != y.packets_to_peer || x.packets_to_client != y.packets_to_client ||
        x.drops_to_peer != y.drops_to_peer || x.drops_to_client != y.drops_to_client) {
      std::fprintf(stderr, "fuzz_worker: allocation %u\n", dp::slot_index(id));
      finding("the bulk path and the scalar path counted an allocation's traffic differently");
    }
  }
}

void check_pool(const WorkerPlane& plane, const char* name) {
  if (plane.pool_available() == plane.pool_size()) return;
  std::fprintf(stderr, "fuzz_worker: %s plane: %u of %u packet buffers in the pool after the input\n", name,
               plane.pool_available(), plane.pool_size());
  finding("an mbuf was leaked (or freed twice)");
}

void tally(const Outputs& out) {
  const dp::CounterValues now = values(*g_bulk);
  for (size_t i = 0; i < dp::kCounterCount; ++i)
    if (now[i] != g_before[i]) ++g_inputs_per_counter[i];
  g_before = now;
  std::array<bool, dp::kPuntReasonCount> seen{};
  for (const Emitted& e : out.packets) {
    ++g_taken[static_cast<size_t>(e.where)];
    if (e.where == Emitted::Where::punt && e.reason < seen.size()) seen[e.reason] = true;
  }
  g_trace_records += out.trace_records;
  for (size_t r = 0; r < seen.size(); ++r) g_inputs_per_punt[r] += seen[r];
}

// The coverage per path: the record in tests/fuzz/README.md quotes this.
void report() {
  if (!g_bulk) return;
  const dp::CounterValues v = values(*g_bulk);
  std::fprintf(stderr, "fuzz_worker: %llu inputs, each through the bulk and the scalar path; per worker counter: packets, inputs that moved it\n",
               static_cast<unsigned long long>(g_inputs));
  for (size_t i = 0; i < dp::kCounterCount; ++i) {
    const std::string name(dp::kCounterNames[i]);
    if (name == "busy_cycles" || name == "total_cycles") continue;
    std::fprintf(stderr, "  %-28s %12llu %10llu\n", name.c_str(), static_cast<unsigned long long>(v[i]),
                 static_cast<unsigned long long>(g_inputs_per_counter[i]));
  }
  std::fprintf(stderr, "fuzz_worker: packets taken back from the worker (each plane), by where it put them\n");
  for (auto w : {Emitted::Where::tx, Emitted::Where::punt, Emitted::Where::hold, Emitted::Where::exception,
                 Emitted::Where::to_stream})
    std::fprintf(stderr, "  %-28s %12llu\n", where_name(w), static_cast<unsigned long long>(g_taken[static_cast<size_t>(w)]));
  std::fprintf(stderr, "  %-28s %12llu\n", "trace records", static_cast<unsigned long long>(g_trace_records));
  std::fprintf(stderr, "fuzz_worker: punted, by reason: inputs\n");
  for (size_t r = 0; r < dp::kPuntReasonCount; ++r)
    std::fprintf(stderr, "  punt %-23s %23llu\n", std::string(dp::to_string(static_cast<dp::PuntReason>(r))).c_str(),
                 static_cast<unsigned long long>(g_inputs_per_punt[r]));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // No hugepages, no PCI, nothing shared with other DPDK processes: runs anywhere, beside anything.
  // (--in-memory would say the same, but DPDK 22.11 refuses it beside --no-huge, which implies its
  // legacy memory mode; --no-shconf and a prefix of our own leave no file behind.)
  const std::string prefix = "tern_fuzz_worker_" + std::to_string(getpid());
  const char* eal[] = {"fuzz_worker", "--no-huge", "-m", "512", "--no-shconf", "--no-pci",
                       "--file-prefix", prefix.c_str(), "--log-level", "error", "-l", "0"};
  if (rte_eal_init(static_cast<int>(std::size(eal)), const_cast<char**>(eal)) < 0) {
    std::fprintf(stderr, "fuzz_worker: EAL init failed\n");
    std::exit(1);
  }
  std::string error;
  g_bulk = WorkerPlane::build("fzb", error);
  if (g_bulk) g_scalar = WorkerPlane::build("fzs", error);
  if (!g_bulk || !g_scalar) {
    std::fprintf(stderr, "fuzz_worker: cannot build the data plane: %s\n", error.c_str());
    std::exit(1);
  }
  g_before = values(*g_bulk);
  // libFuzzer leaves without exit handlers when interrupted (SIGINT, SIGUSR1): a long run can ask
  // for the report along the way.
  if (const char* every = std::getenv("TERN_FUZZ_REPORT_EVERY")) g_report_every = std::strtoull(every, nullptr, 10);
  std::atexit(report);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Burst burst = decode({data, size});
  ++g_inputs;
  // A second an input: the rate limits' buckets and the trace budget are full again, so what an
  // input does depends on the input alone (and the planes' IPv4 Identification, transaction IDs).
  g_tsc += kTscHz;
  const dp::Instant now{kNow, g_tsc};
  for (auto [plane, mode] : {std::pair{g_bulk.get(), dp::Worker::Mode::bulk},
                             std::pair{g_scalar.get(), dp::Worker::Mode::scalar}}) {
    plane->trace(burst.trace);
    plane->inject(burst.frames);
    plane->run(now, mode);
  }
  const Outputs bulk = g_bulk->drain();
  const Outputs scalar = g_scalar->drain();
  check_pool(*g_bulk, "bulk");
  check_pool(*g_scalar, "scalar");
  compare(bulk, scalar);
  tally(bulk);
  if (g_report_every != 0 && g_inputs % g_report_every == 0) report();
  return 0;
}
