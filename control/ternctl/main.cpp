// ternctl: tern's operator command line. It speaks the control socket protocol
// (control/api/codec.hpp) with the same typed requests and replies ternd uses, prints replies as
// tables (or --json), and runs the client side of `probe`. `ternctl --help` lists the commands.

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "control/api/codec.hpp"
#include "control/base/counters.hpp"
#include "control/ternctl/args.hpp"
#include "control/ternctl/connection.hpp"
#include "control/ternctl/probe.hpp"
#include "control/ternctl/render.hpp"
#include "control/ternctl/table.hpp"
#include "crypto/engine.hpp"

namespace {

using namespace tern::ctl;
using namespace tern::ctl::ternctl;

constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNoAnswer = 3;

void print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

// Refusals by ternd are 1; not reaching it (or no answer in time) is 3.
int failed(const Connection& c, const api::Error& e) {
  std::fputs(render(e).c_str(), stderr);
  return c.broken() ? kExitNoAnswer : kExitRefused;
}

template <typename Request>
int simple(Connection& c, const Command& cmd, const Request& request) {
  const auto reply = c.call(request, cmd.timeout_ms);
  if (!reply) return failed(c, reply.error());
  if (cmd.json)
    print(api::to_json(reply.value()) + "\n");
  else if constexpr (std::is_same_v<Request, api::StatsRequest>)
    print(render(reply.value(), cmd.nonzero));
  else
    print(render(reply.value()));
  return 0;
}

// `stats --watch`: like top, the counters that moved, with their rate per second.
int watch(Connection& c, const Command& cmd) {
  std::map<std::string, uint64_t> last;
  const bool tty = isatty(STDOUT_FILENO) != 0;
  for (bool first = true;; first = false) {
    const auto reply = c.call(api::StatsRequest{}, cmd.timeout_ms);
    if (!reply) return failed(c, reply.error());
    if (cmd.json) {
      print(api::to_json(reply.value()) + "\n");
    } else {
      std::string out = tty ? "\033[H\033[2J" : "";
      out += "ternctl stats --watch: every " + std::to_string(cmd.watch->interval) + " s; rates per second\n\n";
      const auto& r = reply.value();
      auto section = [&](const std::string& title, const api::CounterSet& set, bool control_plane) {
        Table t({title, "VALUE", "PER SECOND"});
        for (size_t i = 0; i < set.size(); ++i) {
          const auto& [name, value] = set[i];
          const std::string key = title + "/" + name;
          const bool gauge = control_plane && i < kCounterKinds.size() && kCounterKinds[i] == CounterKind::gauge;
          const uint64_t before = last.count(key) ? last[key] : value;
          last[key] = value;
          if (value == 0 && before == 0) continue;
          const std::string rate =
              first || gauge ? "" : std::to_string((value - before) / cmd.watch->interval);
          t.row({name, std::to_string(value), rate});
        }
        out += t.text() + "\n";
      };
      section("DATAPLANE", r.dataplane, false);
      section("CONTROL I/O", r.control_io, false);
      section("CONTROL PLANE", r.control_plane, true);
      print(out);
    }
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(cmd.watch->interval));
  }
}

int trace(Connection& c, const Command& cmd, const api::TraceRequest& request) {
  std::string error;
  if (!c.send(api::encode_request(request), error)) return failed(c, {api::ErrorCode::failed, error});
  auto line = c.read_line(cmd.timeout_ms, error);
  if (!line) return failed(c, {api::ErrorCode::failed, error});
  const auto started = api::decode_reply<api::TraceReply>(*line);
  if (!started) return failed(c, started.error());
  if (cmd.json)
    print(api::to_json(started.value()) + "\n");
  else
    print(render(started.value()));
  std::fflush(stdout);
  const int wait_ms = static_cast<int>(started->seconds) * 1000 + cmd.timeout_ms;
  for (;;) {
    line = c.read_line(wait_ms, error);
    if (!line) return failed(c, {api::ErrorCode::failed, error});
    const auto event = api::event_of(*line);
    if (event == "trace") {
      const auto batch = api::decode_reply<api::TraceBatch>(*line, "trace");
      if (!batch) return failed(c, batch.error());
      print(cmd.json ? api::to_json(batch.value()) + "\n" : render(batch.value()));
    } else if (event == "trace_end") {
      const auto end = api::decode_reply<api::TraceEnd>(*line, "trace_end");
      if (!end) return failed(c, end.error());
      print(cmd.json ? api::to_json(end.value()) + "\n" : render(end.value()));
      return 0;
    } else {
      return failed(c, {api::ErrorCode::failed, "unexpected line from ternd during a trace"});
    }
    std::fflush(stdout);
  }
}

int probe(Connection& c, const Command& cmd) {
  const auto plan = c.call(api::ProbeRequest{}, cmd.timeout_ms);
  if (!plan) return failed(c, plan.error());
  if (!cmd.json)
    print("probing as " + plan->credential.username + " (a credential ternd issued for " +
          std::to_string(plan->credential.expires_in) + " s)\n");
  std::fflush(stdout);
  const auto engine = tern::crypto::make_default_engine();
  const auto& options = std::get<ProbeCommand>(cmd.what);
  ProbeOptions probe_options;
  probe_options.ca_file = options.ca_file;
  probe_options.tls_name = options.tls_name;
  const api::ProbeReport report = run_probe(plan.value(), *engine, probe_options);
  api::ProbeDoneRequest done{plan->credential.username, report.failures, report.warnings};
  const auto withdrawn = c.call(done, cmd.timeout_ms);
  print(cmd.json ? api::to_json(report) + "\n" : render(report));
  if (!withdrawn) std::fputs(render(withdrawn.error()).c_str(), stderr);
  return report.ok ? 0 : kExitRefused;
}

bool read_stdin(std::string& out) {
  if (!std::getline(std::cin, out)) return false;
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return !out.empty();
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  Parsed parsed = parse_args(args, std::getenv("TERN_SOCKET"));
  if (!parsed.command) {
    std::fputs(parsed.message.c_str(), parsed.help ? stdout : stderr);
    return parsed.help ? 0 : kExitUsage;
  }
  Command& cmd = *parsed.command;
  if (cmd.from_stdin != Command::FromStdin::none) {
    auto& request = std::get<api::Request>(cmd.what);
    std::string text;
    if (!read_stdin(text)) {
      std::fputs("ternctl: expected the secret on standard input (one line)\n", stderr);
      return kExitUsage;
    }
    if (auto* add = std::get_if<api::UsersAddRequest>(&request)) add->password = text;
    if (auto* add = std::get_if<api::SecretsAddRequest>(&request)) add->secret = text;
  }

  std::string error;
  const auto connection = Connection::open(cmd.socket, error);
  if (!connection) {
    std::fprintf(stderr, "ternctl: %s\n", error.c_str());
    return kExitNoAnswer;
  }
  if (std::holds_alternative<ProbeCommand>(cmd.what)) return probe(*connection, cmd);
  const auto& request = std::get<api::Request>(cmd.what);
  if (cmd.watch) return watch(*connection, cmd);
  if (const auto* t = std::get_if<api::TraceRequest>(&request)) return trace(*connection, cmd, *t);
  return std::visit(
      [&](const auto& r) -> int {
        using R = std::decay_t<decltype(r)>;
        // Trace streams and the probe has its own steps (both above); probe.done is the probe's.
        if constexpr (std::is_same_v<R, api::TraceRequest> || std::is_same_v<R, api::ProbeRequest> ||
                      std::is_same_v<R, api::ProbeDoneRequest>)
          return kExitUsage;
        else
          return simple(*connection, cmd, r);
      },
      request);
}
