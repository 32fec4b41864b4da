#pragma once
// A skipped test is not a passed one. GoogleTest exits 0 when a test calls GTEST_SKIP(), and meson
// would count the binary OK; run_all_tests() exits 77 instead (meson's SKIP) when anything skipped
// and nothing failed, and prints each skipped test by name with its reason:
//
//   tern-skipped: RuntimeTest.RelaysBetweenKernelSockets: no veth pair (needs root and iproute2)
//
// scripts/check-skips reads those lines from meson's test log and fails the run unless
// tests/skips.txt lists the test with the reason it may skip.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace tern::test {

inline constexpr int kSkippedExit = 77;  // meson: the test was skipped
inline constexpr const char* kSkippedTag = "tern-skipped: ";

// RUN_ALL_TESTS(), then 77 where it would have returned 0 with tests skipped.
inline int run_all_tests() {
  const int rc = RUN_ALL_TESTS();
  const testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  if (rc != 0 || unit.skipped_test_count() == 0) return rc;
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const testing::TestSuite& suite = *unit.GetTestSuite(i);
    for (int j = 0; j < suite.total_test_count(); ++j) {
      const testing::TestInfo& test = *suite.GetTestInfo(j);
      if (!test.should_run() || !test.result()->Skipped()) continue;
      std::string reason;
      for (int k = 0; k < test.result()->total_part_count(); ++k) {
        const testing::TestPartResult& part = test.result()->GetTestPartResult(k);
        if (part.skipped()) reason = part.message();
      }
      for (char& c : reason)
        if (c == '\n' || c == '\r') c = ' ';
      std::printf("%s%s.%s: %s\n", kSkippedTag, suite.name(), test.name(), reason.c_str());
    }
  }
  std::fflush(stdout);
  return kSkippedExit;
}

}  // namespace tern::test
