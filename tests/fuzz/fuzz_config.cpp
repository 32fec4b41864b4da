// libFuzzer target: the configuration loader (conf/load.hpp) on arbitrary text.
// Invariants beyond "no crash, no leak, no undefined behaviour":
//  - a Config comes back exactly when no error was reported;
//  - every error names the file;
//  - a Config that came back passes validate() on its own.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "conf/load.hpp"
#include "conf/validate.hpp"

// libconfig 1.5's parser does not free the tokens it holds when a syntax error stops it: its
// string buffer (`realm = "a" "b" c;`) and strings from its lexer. A few bytes per failed parse,
// allocated and lost inside libconfig; tern's own allocations are not suppressed.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:strbuf_append\n"
         "leak:libconfig_yylex\n"
         "leak:libconfig_yyparse\n";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
  const auto config = tern::conf::load_string(text, "fuzz.conf", errors);
  if (config.has_value() == !errors.empty()) __builtin_trap();
  for (const auto& error : errors)
    if (error.rfind("fuzz.conf", 0) != 0) __builtin_trap();
  if (config && !tern::conf::validate(*config).empty()) __builtin_trap();
  return 0;
}
