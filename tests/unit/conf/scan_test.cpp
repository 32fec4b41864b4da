#include "conf/scan.hpp"

#include <gtest/gtest.h>

#include <array>

#include "conf/suggest.hpp"

namespace tern::conf {
namespace {

TEST(Scan, NarrowLiteralsAreNotReported) {
  const auto scan = scan_source(
      "a = 2147483647; b = -2147483648; c = 0x7fffffff; d = 1L;\n"
      "e = 9223372036854775807L; f = -9223372036854775808L; g = 1.5e300;");
  EXPECT_TRUE(scan.wide.empty());
  EXPECT_TRUE(scan.include_lines.empty());
  EXPECT_FALSE(scan.nul_line);
}

TEST(Scan, WideLiteralsAndWhatLibconfigMakesOfThem) {
  const auto scan = scan_source(
      "a = 4294967297;\nb = 2147483648;\nc = -2147483649;\n"
      "d = 0x100000005;\ne = 0xFFFFFFFF;\nf = 99999999999999999999;\n"
      "g = -99999999999999999999;\nh = 99999999999999999999L;\n"
      "i = 0x8000000000000000L;\n");
  ASSERT_EQ(scan.wide.size(), 9u);
  const auto expect = [&](size_t i, unsigned line, std::string_view text, bool suffixed,
                          int64_t as_read, std::optional<int64_t> value) {
    const auto& w = scan.wide[i];
    EXPECT_EQ(w.line, line) << i;
    EXPECT_EQ(w.text, text) << i;
    EXPECT_EQ(w.suffixed, suffixed) << i;
    EXPECT_EQ(w.as_read, as_read) << i;
    EXPECT_EQ(w.value, value) << i;
  };
  // The as_read values are what libconfig 1.5 was seen to store for these literals.
  expect(0, 1, "4294967297", false, 1, 4294967297);
  expect(1, 2, "2147483648", false, -2147483648, 2147483648);
  expect(2, 3, "-2147483649", false, 2147483647, -2147483649);
  expect(3, 4, "0x100000005", false, 5, 0x100000005);
  expect(4, 5, "0xFFFFFFFF", false, -1, 0xFFFFFFFF);
  expect(5, 6, "99999999999999999999", false, -1, std::nullopt);
  expect(6, 7, "-99999999999999999999", false, 0, std::nullopt);
  expect(7, 8, "99999999999999999999L", true, INT64_MAX, std::nullopt);
  expect(8, 9, "0x8000000000000000L", true, INT64_MIN, std::nullopt);
}

TEST(Scan, StringsCommentsAndNamesHoldNoLiterals) {
  const auto scan = scan_source(
      "s = \"4294967297 \\\" 4294967297\"; # 4294967297\n"
      "// 4294967297\n/* 4294967297\n 4294967297 */ n99999999999 = 1;\n"
      "t = \"@include\";\n");
  EXPECT_TRUE(scan.wide.empty());
  EXPECT_TRUE(scan.include_lines.empty());
}

TEST(Scan, LinesCountThroughCommentsAndStrings) {
  const auto scan = scan_source("/* a\nb\n*/ s = \"x\ny\"; # c\n@include \"f\"\nv = 5000000000;");
  EXPECT_EQ(scan.include_lines, std::vector<unsigned>{5});
  ASSERT_EQ(scan.wide.size(), 1u);
  EXPECT_EQ(scan.wide[0].line, 6u);
}

TEST(Scan, NulByte) {
  const auto scan = scan_source(std::string("a = 1;\nb = \"x\0y\";\n", 18));
  EXPECT_EQ(scan.nul_line, 2u);
}

TEST(Scan, UnterminatedString) {
  EXPECT_EQ(scan_source("a = 1;\ns = \"abc\n\n").unterminated_string_line, 2u);
  EXPECT_EQ(scan_source("s = \"a\\\"").unterminated_string_line, 1u);
  EXPECT_FALSE(scan_source("s = \"a\\\\\"").unterminated_string_line);
  EXPECT_FALSE(scan_source("# \"\ns = \"x\";").unterminated_string_line);
}

TEST(Scan, UnterminatedConstructsEndTheScan) {
  EXPECT_TRUE(scan_source("s = \"abc").wide.empty());
  EXPECT_TRUE(scan_source("/* 4294967297").wide.empty());
  EXPECT_TRUE(scan_source("s = \"\\").wide.empty());
  EXPECT_EQ(scan_source("a = 4294967297").wide.size(), 1u);
}

TEST(Suggest, ClosestName) {
  constexpr std::array<std::string_view, 3> names = {"addresses", "ports", "external"};
  EXPECT_EQ(closest_name("port", names), "ports");
  EXPECT_EQ(closest_name("adresses", names), "addresses");
  EXPECT_EQ(closest_name("addersses", names), "addresses");  // a transposition is one edit
  EXPECT_EQ(closest_name("exterlan", names), "external");
  EXPECT_FALSE(closest_name("tcp", names));
  EXPECT_FALSE(closest_name("p", names));
  EXPECT_FALSE(closest_name("", names));
  EXPECT_FALSE(closest_name(std::string(1000, 'p'), names));
}

}  // namespace
}  // namespace tern::conf
