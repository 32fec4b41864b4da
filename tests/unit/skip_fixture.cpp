// What tests/check_skips_test.py runs to see a skip reach meson as one: a test that passes and a
// test that skips, under the unit tests' main (test_main.cpp).
#include <gtest/gtest.h>

TEST(SkipFixture, Passes) { EXPECT_EQ(1 + 1, 2); }

TEST(SkipFixture, Skips) { GTEST_SKIP() << "skips on purpose\nacross two lines"; }
