// The GoogleTest main of every unit, vector and transport test binary (tests/meson.build's
// gtest_main): a binary whose tests skipped exits 77, meson's SKIP, never 0 (skips.hpp).
#include "tests/unit/skips.hpp"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return tern::test::run_all_tests();
}
