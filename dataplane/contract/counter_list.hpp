#pragma once
// One X-macro list of counters, X(name, help), turned into what everyone counts with and reads:
// an enum of ids, their number, and the names and help texts the control socket and the metrics
// endpoint show. Used for the workers' counters (counters.hpp), the control lcore's packet I/O
// (control_io.hpp) and the control plane's (control/base/counters.hpp). An entry may carry more
// columns after its help text, which its own header reads (counters.hpp: each worker counter's
// role in the packet accounting); they are ignored here.
//
//   #define MY_COUNTERS(X) X(packets, "packets seen") X(drops, "packets dropped")
//   TERN_COUNTER_LIST(MY_COUNTERS, MyCounterId, kMyCount, kMyNames, kMyHelp);

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#define TERN_COUNTER_LIST_ENUM_(name, help, ...) name,
#define TERN_COUNTER_LIST_ONE_(name, help, ...) +1
#define TERN_COUNTER_LIST_NAME_(name, help, ...) #name,
#define TERN_COUNTER_LIST_HELP_(name, help, ...) help,

#define TERN_COUNTER_LIST(LIST, Id, kCount, kNames, kHelp)                                       \
  enum class Id : uint16_t { LIST(TERN_COUNTER_LIST_ENUM_) };                                     \
  inline constexpr size_t kCount = 0 LIST(TERN_COUNTER_LIST_ONE_);                                \
  inline constexpr std::array<std::string_view, kCount> kNames = {LIST(TERN_COUNTER_LIST_NAME_)}; \
  inline constexpr std::array<std::string_view, kCount> kHelp = {LIST(TERN_COUNTER_LIST_HELP_)}
