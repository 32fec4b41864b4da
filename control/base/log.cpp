#include "control/base/log.hpp"

#include <syslog.h>

#include <cstdio>

namespace tern::ctl {
namespace {

bool needs_quotes(std::string_view value) {
  if (value.empty()) return true;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '=' || c == '"' || c == '\\') return true;
  }
  return false;
}

void append_escaped(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool quote = needs_quotes(value);
  if (quote) out += '"';
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  if (quote) out += '"';
}

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return LOG_DEBUG;
    case LogLevel::info: return LOG_INFO;
    case LogLevel::notice: return LOG_NOTICE;
    case LogLevel::warning: return LOG_WARNING;
    case LogLevel::error: return LOG_ERR;
  }
  return LOG_INFO;
}

}  // namespace

LogLine::LogLine(const Logger* logger, LogLevel level, std::string_view event)
    : logger_(logger), level_(level) {
  if (logger_ == nullptr) return;
  text_.reserve(160);
  text_ += "level=";
  text_ += conf::to_string(level);
  kv("event", event);
}

LogLine::~LogLine() {
  if (logger_ != nullptr) logger_->sink_(level_, text_);
}

void LogLine::key(std::string_view key) {
  text_ += ' ';
  text_ += key;
  text_ += '=';
}

LogLine& LogLine::kv(std::string_view key, std::string_view value) {
  if (logger_ == nullptr) return *this;
  this->key(key);
  append_escaped(text_, value);
  return *this;
}

LogLine& LogLine::kv(std::string_view key, uint64_t value) {
  if (logger_ == nullptr) return *this;
  this->key(key);
  text_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::kv(std::string_view key, int64_t value) {
  if (logger_ == nullptr) return *this;
  this->key(key);
  text_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::kv(std::string_view key, const IpAddress& value) {
  if (logger_ == nullptr) return *this;
  this->key(key);
  text_ += value.to_string();
  return *this;
}

LogLine& LogLine::kv(std::string_view key, const TransportAddress& value) {
  if (logger_ == nullptr) return *this;
  this->key(key);
  text_ += value.to_string();
  return *this;
}

LogLine& LogLine::kv(const dp::FiveTuple& five_tuple) {
  kv("client", five_tuple.client);
  kv("server", five_tuple.server);
  return kv("transport", five_tuple.transport == dp::Transport::tcp ? "tcp" : "udp");
}

Logger Logger::to_stderr(LogLevel level) {
  return Logger(level, [](LogLevel, std::string_view line) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  });
}

Logger Logger::to_syslog(LogLevel level, const char* ident) {
  openlog(ident, LOG_PID, LOG_DAEMON);
  return Logger(level, [](LogLevel l, std::string_view line) {
    syslog(syslog_priority(l), "%.*s", static_cast<int>(line.size()), line.data());
  });
}

}  // namespace tern::ctl
