// ternd: the tern TURN relay daemon.
//
//   ternd -c FILE            run: load and validate FILE, start the data plane (EAL, ports,
//                            workers), serve the control plane and the operator surface
//                            (control.socket, control.metrics) on the main lcore until
//                            SIGINT/SIGTERM (SIGHUP re-reads FILE), then stop everything cleanly
//   ternd -c FILE --check    validate FILE and exit 0 (valid) or 1 (errors on stderr)

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conf/load.hpp"
#include "control/turn/control_plane.hpp"
#include "control/base/log.hpp"
#include "control/operator/surface.hpp"
#include "control/transport/stream_transport.hpp"
#include "control/transport/tls_check.hpp"
#include "control/operator/traffic_baselines.hpp"
#include "control/ternd/control_loop.hpp"
#include "crypto/engine.hpp"
#include "dataplane/setup/runtime.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: ternd -c FILE [--check]\n"
    "  -c, --config FILE  the configuration (libconfig; see conf/ternd.conf)\n"
    "      --check        validate the configuration and exit: 0 valid, 1 not\n"
    "      --version      print the version and exit\n";

struct Arguments {
  std::string config;
  bool check = false;
};

bool parse_arguments(int argc, char** argv, Arguments& out) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
      out.config = argv[++i];
    } else if (arg == "--check") {
      out.check = true;
    } else if (arg == "--version") {
      std::printf("ternd %s\n", TERN_VERSION);
      std::exit(0);
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage.data(), stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "ternd: unknown argument '%s'\n%s", argv[i], kUsage.data());
      return false;
    }
  }
  if (out.config.empty()) {
    std::fprintf(stderr, "ternd: -c FILE is required\n%s", kUsage.data());
    return false;
  }
  return true;
}

// The final counts, one line per source (the workers summed, the control lcore's packet I/O, the
// control plane, the stream transport and the exception path): what a stopped ternd leaves for
// whoever reads its log afterwards.
void log_counters(const tern::ctl::Logger& logger, const tern::ctl::ControlPlane& plane,
                  const tern::dp::Stats& stats, const tern::dp::ControlIo& io,
                  const tern::ctl::StreamTransport* streams) {
  using tern::ctl::LogLevel;
  if (streams != nullptr) {
    const tern::ctl::StreamStatus st = streams->status();
    {
      auto line = logger.line(LogLevel::notice, "counters");
      line.kv("scope", "streams");
      for (size_t i = 0; i < st.counters.size(); ++i) line.kv(tern::ctl::kTransportCounterNames[i], st.counters[i]);
    }
    auto line = logger.line(LogLevel::notice, "counters");
    line.kv("scope", "exception");
    for (size_t i = 0; i < st.exception.size(); ++i) line.kv(tern::dp::kExceptionCounterNames[i], st.exception[i]);
  }
  {
    const auto values = stats.counters();
    auto line = logger.line(LogLevel::notice, "counters");
    line.kv("scope", "dataplane");
    for (size_t i = 0; i < values.size(); ++i) line.kv(tern::dp::kCounterNames[i], values[i]);
  }
  {
    const auto values = io.counters();
    auto line = logger.line(LogLevel::notice, "counters");
    line.kv("scope", "control_io");
    for (size_t i = 0; i < values.size(); ++i) line.kv(tern::dp::kControlCounterNames[i], values[i]);
  }
  const auto values = plane.counters();
  auto line = logger.line(LogLevel::notice, "counters");
  line.kv("scope", "control");
  for (size_t i = 0; i < values.size(); ++i) line.kv(tern::ctl::kCounterNames[i], values[i]);
}

// The configuration's path as reload will find it whatever the working directory is then.
std::string absolute(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tern;
  Arguments args;
  if (!parse_arguments(argc, argv, args)) return 2;

  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  const auto config = conf::load_file(args.config, errors);
  if (config) ctl::check_tls(*config, args.config, std::time(nullptr), errors, warnings);
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (!config || !errors.empty()) return 1;
  if (args.check) {
    std::printf("%s: OK\n", args.config.c_str());
    return 0;
  }

  ctl::Logger logger = config->log.syslog ? ctl::Logger::to_syslog(config->log.level, "ternd")
                                          : ctl::Logger::to_stderr(config->log.level);
  // Before the EAL starts its threads, so SIGINT/SIGTERM/SIGHUP reach only the control loop's
  // signalfd.
  if (!ctl::ControlLoop::block_signals()) {
    logger.line(ctl::LogLevel::error, "start_failed").kv("reason", "cannot block signals");
    return 1;
  }
  std::string error;
  // The workers start answering clients only once the control socket is up (launch() below).
  dp::RuntimeConfig runtime_config = dp::runtime_config(*config);
  runtime_config.launch = false;
  auto dataplane = dp::Runtime::start(runtime_config, error);
  if (!dataplane) {
    logger.line(ctl::LogLevel::error, "start_failed").kv("reason", error);
    return 1;
  }
  const auto engine = crypto::make_default_engine();
  int status = 0;
  {
    ctl::TrafficBaselines tables(dataplane->tables(), dataplane->stats(), config->dataplane.table_size);
    ctl::ControlPlane plane(*config, tables, *engine, logger);
    ctl::ControlLoop service(plane, dataplane->io(), logger);
    // TURN over TCP and TLS: the stream transport's thread, in ternd's namespace at the kernel end
    // of the exception path, its requests answered by the same control plane.
    ctl::Mailbox mailbox;
    std::unique_ptr<ctl::StreamTransport> streams;
    if (dp::StreamIo* io = dataplane->streams()) {
      streams = std::make_unique<ctl::StreamTransport>(ctl::StreamTransportConfig::from(*config), *io, mailbox, logger);
      std::unique_ptr<ctl::TlsContext> tls;
      if (!config->listen.tls.empty()) tls = ctl::TlsContext::create(ctl::tls_settings(config->tls), error);
      if ((!config->listen.tls.empty() && !tls) || !mailbox.ok() || !service.attach(mailbox) ||
          !streams->start(std::move(tls), error)) {
        logger.line(ctl::LogLevel::error, "start_failed").kv("reason", error.empty() ? "stream transport" : error);
        streams.reset();
        dataplane->stop();
        return 1;
      }
    }
    ctl::OperatorSurface surface(service.loop(),
                                 {plane, *engine, logger, dataplane->stats(), dataplane->io(), tables, dataplane->tracing(),
                                  streams.get(), &dataplane->worker_settings()},
                                 absolute(args.config), *config, service.now(), ctl::ControlLoop::now_ms());
    if (!surface.open(error) || !dataplane->launch(error)) {
      logger.line(ctl::LogLevel::error, "start_failed").kv("reason", error);
      status = 1;
    } else {
      service.attach(surface);
      logger.line(ctl::LogLevel::notice, "started")
          .kv("version", TERN_VERSION)
          .kv("workers", dataplane->workers())
          .kv("crypto", crypto::to_string(engine->backend()));
      if (!service.run()) status = 1;
    }
    if (streams) streams->stop();  // its connections close; the data plane is still there to carry the FINs
    log_counters(logger, plane, dataplane->stats(), dataplane->io(), streams.get());
  }
  logger.line(ctl::LogLevel::notice, "stopping");
  dataplane->stop();
  logger.line(ctl::LogLevel::notice, "stopped");
  return status;
}
