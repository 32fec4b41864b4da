#include "control/ternctl/args.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

namespace tern::ctl::ternctl {

const char* const kUsage =
    "usage: ternctl [-s SOCKET] [--json] [--timeout SECONDS] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  status                                version, uptime, workers, ports, allocations, drain state\n"
    "  stats [--nonzero] [--watch [SECS]]    every counter (workers summed and each, control I/O, control\n"
    "                                        plane); --watch refreshes like top with rates per second\n"
    "  allocations [--user U] [--client ADDR] [--limit N]\n"
    "                                        live allocations (ADDR: an IP, or IP:port)\n"
    "  allocation ID                         one allocation: 5-tuple, relayed address, permissions,\n"
    "                                        channels, traffic each way\n"
    "  kill ID | kill --user U               remove allocations now\n"
    "  users list\n"
    "  users add NAME (--password P | --password-stdin | --key HEX [--key-sha256 HEX])\n"
    "  users remove NAME                     static users, changed live (until the next reload)\n"
    "  secrets list\n"
    "  secrets add (SECRET | --stdin) [--last]\n"
    "  secrets remove FINGERPRINT            TURN REST API secrets, rotated live (until the next reload)\n"
    "  reload                                re-read the configuration file (as SIGHUP does)\n"
    "  drain on|off                          refuse new allocations (300 Try Alternate with\n"
    "                                        alternate_server) while existing ones finish / stop that\n"
    "  trace ADDR [--seconds N]              live: what was decided for packets from or to ADDR\n"
    "  probe [--ca FILE] [--tls-name NAME]   test the server from here, as a client would: every UDP,\n"
    "                                        TCP and TLS listener (TLS certificates checked against\n"
    "                                        FILE's CAs, else the system's, for NAME, else the IP)\n"
    "  version\n"
    "\n"
    "options:\n"
    "  -s, --socket PATH    the control socket (default: $TERN_SOCKET, else /run/tern/ternd.sock)\n"
    "  --json               print replies as JSON, one object per line, instead of tables\n"
    "  --timeout SECONDS    how long to wait for ternd's answer (default 10)\n"
    "\n"
    "exit status: 0 done, 1 ternd refused or the probe failed, 2 usage, 3 no answer from ternd\n";

namespace {

class Cursor {
 public:
  explicit Cursor(const std::vector<std::string>& args) : args_(args) {}
  bool done() const { return i_ >= args_.size(); }
  const std::string& peek() const { return args_[i_]; }
  std::string next() { return args_[i_++]; }
  bool take(std::string_view flag) {
    if (done() || args_[i_] != flag) return false;
    ++i_;
    return true;
  }

 private:
  const std::vector<std::string>& args_;
  size_t i_ = 0;
};

template <typename T>
bool number(const std::string& text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

Parsed error(std::string message) {
  return Parsed{std::nullopt, "ternctl: " + std::move(message) + " (ternctl --help lists the commands)\n", false};
}

// Options valid anywhere: the socket, --json, --timeout. true when one was taken.
bool global_option(Cursor& c, Command& cmd, std::string& problem) {
  if (c.take("-s") || c.take("--socket")) {
    if (c.done()) {
      problem = "--socket needs a path";
      return true;
    }
    cmd.socket = c.next();
    return true;
  }
  if (c.take("--json")) {
    cmd.json = true;
    return true;
  }
  if (c.take("--timeout")) {
    uint32_t seconds = 0;
    if (c.done() || !number(c.next(), seconds) || seconds == 0) problem = "--timeout needs a number of seconds";
    cmd.timeout_ms = static_cast<int>(seconds) * 1000;
    return true;
  }
  return false;
}

}  // namespace

Parsed parse_args(const std::vector<std::string>& args, const char* socket_env) {
  Command cmd;
  if (socket_env != nullptr && *socket_env != '\0') cmd.socket = socket_env;
  Cursor c(args);
  std::string problem;
  while (!c.done() && global_option(c, cmd, problem)) {
  }
  if (!problem.empty()) return error(problem);
  if (c.done() || c.peek() == "-h" || c.peek() == "--help" || c.peek() == "help")
    return Parsed{std::nullopt, kUsage, true};
  const std::string name = c.next();

  // Everything after the command: its words and options, and the global options.
  std::vector<std::string> words;
  std::vector<std::pair<std::string, std::optional<std::string>>> options;
  static const std::vector<std::string> kWithValue = {"--user", "--client", "--limit", "--password", "--key",
                                                      "--key-sha256", "--seconds", "--ca", "--tls-name"};
  while (!c.done()) {
    if (global_option(c, cmd, problem)) {
      if (!problem.empty()) return error(problem);
      continue;
    }
    std::string w = c.next();
    if (w.size() > 2 && w.starts_with("--")) {
      const bool valued = std::find(kWithValue.begin(), kWithValue.end(), w) != kWithValue.end();
      if (valued && c.done()) return error(w + " needs a value");
      options.emplace_back(w, valued ? std::optional<std::string>(c.next()) : std::nullopt);
      // --watch takes an optional interval.
      if (w == "--watch" && !c.done() && std::isdigit(static_cast<unsigned char>(c.peek()[0])))
        options.back().second = c.next();
    } else {
      words.push_back(std::move(w));
    }
  }
  auto option = [&](std::string_view flag) -> std::optional<std::optional<std::string>> {
    for (const auto& [k, v] : options)
      if (k == flag) return v;
    return std::nullopt;
  };
  auto only = [&](std::initializer_list<std::string_view> allowed) -> std::string {
    for (const auto& [k, v] : options)
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) return k + " is not an option of " + name;
    return {};
  };
  auto words_are = [&](size_t n) { return words.size() == n; };

  if (name == "status" || name == "version" || name == "reload") {
    if (!words_are(0) || !only({}).empty()) return error(name + " takes no arguments");
    if (name == "status") cmd.what = api::StatusRequest{};
    if (name == "version") cmd.what = api::VersionRequest{};
    if (name == "reload") cmd.what = api::ReloadRequest{};
  } else if (name == "probe") {
    if (!words_are(0)) return error("probe takes options only");
    if (auto o = only({"--ca", "--tls-name"}); !o.empty()) return error(o);
    ProbeCommand probe;
    if (const auto v = option("--ca")) probe.ca_file = **v;
    if (const auto v = option("--tls-name")) probe.tls_name = **v;
    cmd.what = probe;
  } else if (name == "stats") {
    if (!words_are(0)) return error("stats takes no words");
    if (auto o = only({"--watch", "--nonzero"}); !o.empty()) return error(o);
    cmd.nonzero = option("--nonzero").has_value();
    if (const auto w = option("--watch")) {
      StatsWatch watch;
      if (*w && (!number(**w, watch.interval) || watch.interval == 0)) return error("--watch takes seconds");
      cmd.watch = watch;
    }
    cmd.what = api::StatsRequest{};
  } else if (name == "allocations") {
    if (!words_are(0)) return error("allocations takes options only");
    if (auto o = only({"--user", "--client", "--limit"}); !o.empty()) return error(o);
    api::AllocationsRequest r;
    if (const auto u = option("--user")) r.user = **u;
    if (const auto a = option("--client")) {
      r.client = api::Endpoint::parse(**a);
      if (!r.client) return error("--client takes an IP address or IP:port, not " + **a);
    }
    if (const auto l = option("--limit")) {
      uint32_t limit = 0;
      if (!number(**l, limit) || limit == 0) return error("--limit takes a positive number");
      r.limit = limit;
    }
    cmd.what = r;
  } else if (name == "allocation") {
    uint32_t id = 0;
    if (!words_are(1) || !number(words[0], id) || !only({}).empty()) return error("allocation takes an allocation id");
    cmd.what = api::AllocationRequest{id};
  } else if (name == "kill") {
    api::KillRequest r;
    if (auto o = only({"--user"}); !o.empty()) return error(o);
    if (const auto u = option("--user")) r.user = **u;
    if (words_are(1)) {
      uint32_t id = 0;
      if (!number(words[0], id)) return error("kill takes an allocation id or --user NAME");
      r.allocation = id;
    }
    if (r.allocation.has_value() == r.user.has_value() || words.size() > 1) return error("kill takes an allocation id or --user NAME");
    cmd.what = r;
  } else if (name == "users") {
    const std::string sub = words.empty() ? "" : words[0];
    if (sub == "list" && words_are(1) && only({}).empty()) {
      cmd.what = api::UsersListRequest{};
    } else if (sub == "remove" && words_are(2) && only({}).empty()) {
      cmd.what = api::UsersRemoveRequest{words[1]};
    } else if (sub == "add" && words_are(2)) {
      if (auto o = only({"--password", "--password-stdin", "--key", "--key-sha256"}); !o.empty()) return error(o);
      api::UsersAddRequest r;
      r.name = words[1];
      if (const auto p = option("--password")) r.password = **p;
      if (const auto k = option("--key")) r.key = **k;
      if (const auto k = option("--key-sha256")) r.key_sha256 = **k;
      if (option("--password-stdin")) {
        if (r.password) return error("--password or --password-stdin, not both");
        cmd.from_stdin = Command::FromStdin::password;
        r.password = "";
      }
      if (r.password.has_value() == r.key.has_value())
        return error("users add takes --password, --password-stdin or --key");
      cmd.what = r;
    } else {
      return error("users list | users add NAME ... | users remove NAME");
    }
  } else if (name == "secrets") {
    const std::string sub = words.empty() ? "" : words[0];
    if (sub == "list" && words_are(1) && only({}).empty()) {
      cmd.what = api::SecretsListRequest{};
    } else if (sub == "remove" && words_are(2) && only({}).empty()) {
      cmd.what = api::SecretsRemoveRequest{words[1]};
    } else if (sub == "add") {
      if (auto o = only({"--stdin", "--last"}); !o.empty()) return error(o);
      api::SecretsAddRequest r;
      if (option("--last")) r.last = true;
      if (option("--stdin")) {
        if (!words_are(1)) return error("secrets add --stdin takes no secret on the command line");
        cmd.from_stdin = Command::FromStdin::secret;
      } else if (words_are(2)) {
        r.secret = words[1];
      } else {
        return error("secrets add SECRET, or secrets add --stdin");
      }
      cmd.what = r;
    } else {
      return error("secrets list | secrets add ... | secrets remove FINGERPRINT");
    }
  } else if (name == "drain") {
    if (!words_are(1) || (words[0] != "on" && words[0] != "off") || !only({}).empty())
      return error("drain on | drain off");
    cmd.what = api::DrainRequest{words[0] == "on"};
  } else if (name == "trace") {
    if (auto o = only({"--seconds"}); !o.empty()) return error(o);
    const auto ip = words_are(1) ? IpAddress::parse(words[0]) : std::nullopt;
    if (!ip) return error("trace takes an IP address");
    api::TraceRequest r;
    r.address = *ip;
    if (const auto s = option("--seconds")) {
      uint32_t seconds = 0;
      if (!number(**s, seconds) || seconds == 0) return error("--seconds takes a positive number");
      r.seconds = seconds;
    }
    cmd.what = r;
  } else {
    return error("unknown command '" + name + "'");
  }
  return Parsed{cmd, {}, false};
}

}  // namespace tern::ctl::ternctl
