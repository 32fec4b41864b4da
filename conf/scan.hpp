#pragma once
// A pass over the configuration text for what libconfig 1.5 does not report:
//  - integer literals it cannot hold: without an L suffix it keeps the low 32 bits
//    (4294967297 is read as 1, 0x1FFFFFFFF as -1); with one it saturates at 64 bits;
//  - @include directives, which would read other files (tern's configuration is one file);
//  - NUL bytes, where libconfig would silently stop reading;
//  - a string still open at the end of the text, which libconfig reports only as a syntax error
//    on the last line.
// The loader matches each wide literal to the setting libconfig read it into (same line, same
// truncated value) and judges the number the operator wrote.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::conf {

struct WideLiteral {
  unsigned line = 0;
  std::string text;              // as written, suffix included
  bool suffixed = false;         // had L/LL: libconfig stored it as a 64-bit integer
  int64_t as_read = 0;           // what libconfig stored (a 32-bit value unless suffixed)
  std::optional<int64_t> value;  // what was written; nullopt when beyond the 64-bit range
};

struct SourceScan {
  std::vector<WideLiteral> wide;
  std::vector<unsigned> include_lines;
  std::optional<unsigned> nul_line;
  std::optional<unsigned> unterminated_string_line;  // where the open string starts
};

SourceScan scan_source(std::string_view text);

}  // namespace tern::conf
