#pragma once
// ternctl's command line, turned into the typed request it sends (api/types.hpp) and the few
// things that stay on ternctl's side (where the socket is, --json, --watch, probe).

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "control/api/types.hpp"

namespace tern::ctl::ternctl {

inline constexpr const char* kDefaultSocket = "/run/tern/ternd.sock";

struct ProbeCommand {
  std::string ca_file;   // --ca: TLS listeners' certificates checked against these CAs
  std::string tls_name;  // --tls-name: the name they must carry (and SNI)
};
struct StatsWatch {
  uint32_t interval = 1;  // seconds
};

struct Command {
  std::string socket = kDefaultSocket;
  bool json = false;
  bool nonzero = false;      // stats: only counters that are not 0
  int timeout_ms = 10000;
  std::optional<StatsWatch> watch;
  // A secret or password to read from standard input into the request.
  enum class FromStdin { none, password, secret } from_stdin = FromStdin::none;
  std::variant<api::Request, ProbeCommand> what = api::StatusRequest{};
};

struct Parsed {
  std::optional<Command> command;  // nullopt: usage error (message) or help (message, no error)
  std::string message;
  bool help = false;
};

Parsed parse_args(const std::vector<std::string>& args, const char* socket_env);

extern const char* const kUsage;

}  // namespace tern::ctl::ternctl
