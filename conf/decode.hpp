#pragma once
// The first pass of the loader (conf/load.hpp): reads libconfig's setting tree into a Config,
// checking each setting on its own (type, format, known name). Cross-setting rules are
// validate()'s.

#include <libconfig.h++>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "conf/scan.hpp"
#include "crypto/engine.hpp"

namespace tern::conf {

// An error at a line of the file (0: no line), text "setting: message".
struct LocatedError {
  unsigned line = 0;
  std::string text;
};

// Fills `config` from `root`; users' keys are derived with `engine`. Returns false when any
// error was appended.
bool decode(const libconfig::Setting& root, const SourceScan& scan, crypto::Engine& engine,
            Config& config, std::vector<LocatedError>& errors);

}  // namespace tern::conf
