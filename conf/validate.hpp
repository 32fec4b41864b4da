#pragma once
// Checks a Config for what would break clients or startup: settings out of range, addresses that
// the data plane does not own, relay ports that collide with listeners, quotas that cannot be
// met, lifetimes out of order. Pure: it looks only at the Config, so a configuration built in
// code or reloaded at run time is checked exactly as a loaded one (the loader runs it too, and
// adds file and line to each Problem).

#include <string>
#include <vector>

#include "conf/config.hpp"

namespace tern::conf {

// One finding: the setting as it is written in the file ("relay.ports.max",
// "auth.users[1].name", "dataplane.ports[0].gateway") and what is wrong with it.
struct Problem {
  std::string setting;
  std::string message;

  bool operator==(const Problem&) const = default;
};

// Every problem found, in the order of the file's sections; empty when the Config is usable.
std::vector<Problem> validate(const Config& config);

}  // namespace tern::conf
