#pragma once
// Loads tern's configuration from a libconfig file (conf/ternd.conf is the annotated example).
//
//   std::vector<std::string> errors;
//   auto config = tern::conf::load_file("/etc/tern/ternd.conf", errors);
//   if (!config) { for (auto& e : errors) std::cerr << e << '\n'; return 1; }
//
// Both functions return the Config when the file is well-formed and valid; otherwise nullopt,
// with every problem found appended to `errors`, one line each, in file order:
//
//   ternd.conf:14: relay.ports.max: 70000 is not a port
//   ternd.conf:7: relay.port: unknown setting (did you mean relay.ports?)
//   ternd.conf: realm: required, expected a non-empty string        (no line: not in the file)
//
// Reading happens in two passes. The first reads every setting: libconfig syntax errors, wrong
// types, malformed values (addresses, prefixes, keys) and unknown settings. When that pass is
// clean, validate() (conf/validate.hpp) checks the settings against each other, and its problems
// get the line of the setting they name (or of its nearest enclosing group when the setting was
// left at its default).
//
// Users' passwords are turned into keys (conf/keys.hpp) and dropped. @include is refused:
// a configuration is one file.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"

namespace tern::conf {

std::optional<Config> load_file(std::string_view path, std::vector<std::string>& errors);

// `name` stands for the file in messages ("ternd.conf:3: ...").
std::optional<Config> load_string(std::string_view text, std::string_view name,
                                  std::vector<std::string>& errors);

}  // namespace tern::conf
