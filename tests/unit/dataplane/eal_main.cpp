// GoogleTest main for tests that need DPDK's EAL: no hugepages, no PCI, no shared runtime files,
// so the tests run on any machine, beside other DPDK processes. (DPDK 22.11 refuses --in-memory
// beside --no-huge, which it runs as legacy memory; --no-huge alone leaves no page files.)
// A skipped test makes the binary exit 77, meson's SKIP (tests/unit/skips.hpp).
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <unistd.h>

#include <string>

#include "tests/unit/skips.hpp"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "tern_test_" + std::to_string(getpid());
  const char* eal[] = {"tern-test", "--no-huge", "-m", "512", "--no-shconf", "--no-pci",
                       "--file-prefix", prefix.c_str(), "--log-level", "error", "-l", "0"};
  if (rte_eal_init(static_cast<int>(std::size(eal)), const_cast<char**>(eal)) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  const int rc = tern::test::run_all_tests();
  rte_eal_cleanup();
  return rc;
}
