// The data plane as a process among processes, the way an operator meets it: started, stopped by
// SIGTERM while its worker is flooded, killed with SIGKILL and started again, run twice side by
// side. Each data plane is a child process (this binary again, with --child) on a net_null port,
// with DPDK's shared runtime files (no --no-shconf), so what a killed process leaves behind in
// /var/run/dpdk/<file-prefix>/ is part of what is tested.

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "dataplane/setup/runtime.hpp"
#include "tests/unit/skips.hpp"

namespace tern::dp {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kStartFailed = 3;

// ---- the child: one data plane until SIGTERM ----

int child(const std::string& prefix, bool flooded) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);  // before the EAL's threads: only sigwait sees it

  RuntimeConfig c;
  c.eal = {"-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", prefix,
           "--log-level", "error"};
  RuntimePort port;
  // net_null receives zero-filled 64-byte frames as fast as it is polled (a flood the worker
  // drops as not ours), or nothing at all with no-rx.
  port.device = flooded ? "net_null0" : "net_null0,no-rx=1";
  port.addresses = {*InterfaceAddress::parse("10.66.0.1/24")};
  c.ports = {port};
  c.listeners = {*TransportAddress::parse("10.66.0.1:3478")};
  c.relay_addresses = {*IpAddress::parse("10.66.0.1")};
  c.table_size = 1024;
  c.mbufs = 2047;
  std::string error;
  auto runtime = Runtime::start(c, error);
  if (!runtime) {
    std::fprintf(stderr, "start failed: %s\n", error.c_str());
    return kStartFailed;
  }
  if (flooded) {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(20);
    while (runtime->counters()[static_cast<size_t>(CounterId::rx_packets)] < 100000 &&
           SteadyClock::now() < deadline)
      usleep(1000);
  }
  std::printf("up\n");
  std::fflush(stdout);
  int signal = 0;
  sigwait(&term, &signal);
  runtime->stop();
  std::printf("stopped\n");
  std::fflush(stdout);
  return 0;
}

// ---- the parent ----

struct Child {
  pid_t pid = -1;
  int out = -1;  // the child's stdout
};

Child spawn(const std::string& prefix, bool flooded) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    const char* argv[] = {"/proc/self/exe", "--child", prefix.c_str(), flooded ? "flooded" : "idle",
                          nullptr};
    execv(argv[0], const_cast<char**>(argv));
    _exit(127);
  }
  close(pipe_fds[1]);
  return {pid, pipe_fds[0]};
}

// The child's next line of output ("" at end of output or after the deadline).
std::string line_of(const Child& c, std::chrono::seconds within = std::chrono::seconds(60)) {
  std::string s;
  const auto deadline = SteadyClock::now() + within;
  while (SteadyClock::now() < deadline) {
    pollfd p{c.out, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char ch;
    if (read(c.out, &ch, 1) != 1) break;
    if (ch == '\n') return s;
    s += ch;
  }
  return s;
}

// Waits for the child to end; its exit status, or -1 if it had not ended by the deadline (it is
// then killed).
int wait_for(Child& c, std::chrono::seconds within = std::chrono::seconds(60)) {
  const auto deadline = SteadyClock::now() + within;
  int status = 0;
  while (waitpid(c.pid, &status, WNOHANG) == 0) {
    if (SteadyClock::now() > deadline) {
      kill(c.pid, SIGKILL);
      waitpid(c.pid, &status, 0);
      close(c.out);
      return -1;
    }
    usleep(10000);
  }
  close(c.out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string prefix(const char* what) { return std::string("tern_proc_") + what + "_" + std::to_string(getpid()); }

// Each test's runtime directories go once its processes are gone.
class Processes : public testing::Test {
 protected:
  void TearDown() override {
    for (const char* what : {"load", "kill", "a", "b"})
      std::filesystem::remove_all("/var/run/dpdk/" + prefix(what));
  }
};

// SIGTERM while the worker is flooded: it stops polling, the ports stop, the EAL cleans up, the
// process exits 0.
TEST_F(Processes, SigtermUnderLoadStopsCleanly) {
  Child c = spawn(prefix("load"), true);
  ASSERT_EQ(line_of(c), "up");
  kill(c.pid, SIGTERM);
  EXPECT_EQ(line_of(c), "stopped");
  EXPECT_EQ(wait_for(c), 0);
}

// SIGKILL leaves the shared runtime files behind; the lock in them died with the process, so
// the same file prefix starts again.
TEST_F(Processes, RestartsAfterSigkill) {
  const std::string p = prefix("kill");
  Child first = spawn(p, false);
  ASSERT_EQ(line_of(first), "up");
  EXPECT_TRUE(exists("/var/run/dpdk/" + p + "/config"));
  kill(first.pid, SIGKILL);
  EXPECT_EQ(wait_for(first), 128 + SIGKILL);
  EXPECT_TRUE(exists("/var/run/dpdk/" + p + "/config"));  // stale, and harmless

  Child again = spawn(p, false);
  EXPECT_EQ(line_of(again), "up");
  kill(again.pid, SIGTERM);
  EXPECT_EQ(wait_for(again), 0);
}

// Two data planes at once need two file prefixes; a second one on the same prefix is refused
// while the first runs.
TEST_F(Processes, SideBySideWithTheirOwnFilePrefix) {
  Child a = spawn(prefix("a"), false);
  Child b = spawn(prefix("b"), false);
  ASSERT_EQ(line_of(a), "up");
  ASSERT_EQ(line_of(b), "up");
  Child same = spawn(prefix("a"), false);
  EXPECT_EQ(wait_for(same), kStartFailed);
  kill(a.pid, SIGTERM);
  kill(b.pid, SIGTERM);
  EXPECT_EQ(wait_for(a), 0);
  EXPECT_EQ(wait_for(b), 0);
}

}  // namespace
}  // namespace tern::dp

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--child")
    return tern::dp::child(argv[2], std::string(argv[3]) == "flooded");
  testing::InitGoogleTest(&argc, argv);
  return tern::test::run_all_tests();  // 77 when a test skipped
}
