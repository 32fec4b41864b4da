#pragma once
// A small structured logger: one event per line as key=value pairs, filtered by level, written to
// stderr, to syslog or to any sink (tests capture lines).
//
//   logger.line(LogLevel::info, "allocation_created").kv("user", name).kv(five_tuple)
//         .kv("relayed", relayed);
//   -> level=info event=allocation_created user=alice client=192.0.2.1:5000 server=...
//
// Values are quoted when they hold spaces, '=' or quotes, and every byte outside printable ASCII
// is escaped (\xNN), so a username cannot forge a line or a key. Callers never log passwords,
// keys or secrets; the logger has no overload that takes one.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "conf/config.hpp"
#include "conf/net.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

using conf::LogLevel;

class Logger;

// One line being assembled; written when it goes out of scope. Does nothing below the level.
class LogLine {
 public:
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  ~LogLine();

  LogLine& kv(std::string_view key, std::string_view value);
  LogLine& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  LogLine& kv(std::string_view key, uint64_t value);
  LogLine& kv(std::string_view key, int64_t value);
  LogLine& kv(std::string_view key, uint32_t value) { return kv(key, uint64_t{value}); }
  LogLine& kv(std::string_view key, int value) { return kv(key, int64_t{value}); }
  LogLine& kv(std::string_view key, dp::AllocId value) { return kv(key, uint64_t{dp::slot_index(value)}); }
  LogLine& kv(std::string_view key, const IpAddress& value);
  LogLine& kv(std::string_view key, const TransportAddress& value);
  // client=... server=... transport=udp
  LogLine& kv(const dp::FiveTuple& five_tuple);

 private:
  friend class Logger;
  LogLine(const Logger* logger, LogLevel level, std::string_view event);
  void key(std::string_view key);

  const Logger* logger_;  // nullptr: disabled
  LogLevel level_;
  std::string text_;
};

class Logger {
 public:
  using Sink = std::function<void(LogLevel, std::string_view line)>;

  // Discards everything.
  Logger() = default;
  Logger(LogLevel level, Sink sink) : level_(level), sink_(std::move(sink)) {}
  static Logger to_stderr(LogLevel level);
  // openlog(ident, LOG_PID, LOG_DAEMON); priorities follow the levels.
  static Logger to_syslog(LogLevel level, const char* ident);

  void set_level(LogLevel level) { level_ = level; }
  LogLevel level() const { return level_; }
  bool enabled(LogLevel level) const { return sink_ && level >= level_; }

  LogLine line(LogLevel level, std::string_view event) const {
    return LogLine(enabled(level) ? this : nullptr, level, event);
  }

 private:
  friend class LogLine;
  LogLevel level_ = LogLevel::info;
  Sink sink_;
};

}  // namespace tern::ctl
