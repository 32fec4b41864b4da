#pragma once
// A small valid configuration, one section per line so a test can replace or add a line and
// know the line numbers the loader will report.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "conf/load.hpp"

namespace tern::conf::testing {

class ConfText {
 public:
  // Lines 1-5 of the base configuration.
  static constexpr size_t kRealm = 1, kListen = 2, kRelay = 3, kAuth = 4, kDataplane = 5;

  ConfText& set(size_t line, std::string text) {
    lines_.at(line - 1) = std::move(text);
    return *this;
  }
  ConfText& drop(size_t line) { return set(line, ""); }
  // Appends a line; the first added line is line 6.
  ConfText& add(std::string text) {
    lines_.push_back(std::move(text));
    return *this;
  }

  std::string str() const {
    std::string text;
    for (const auto& line : lines_) text += line + "\n";
    return text;
  }

 private:
  std::vector<std::string> lines_ = {
      R"(realm = "tern.test";)",
      R"(listen = { udp = [ "10.90.0.1:3478" ]; };)",
      R"(relay = { addresses = [ "10.90.0.1" ]; };)",
      R"(auth = { secrets = [ "northsecret" ]; };)",
      R"(dataplane = { ports = ( { device = "net_null0"; addresses = [ "10.90.0.1/24" ]; gateway = "10.90.0.254"; } ); };)",
  };
};

// The errors of loading `text` as "t.conf"; the load must fail exactly when there are errors.
inline std::vector<std::string> errors_of(const std::string& text) {
  std::vector<std::string> errors;
  const auto config = load_string(text, "t.conf", errors);
  EXPECT_EQ(config.has_value(), errors.empty());
  return errors;
}

inline std::vector<std::string> errors_of(const ConfText& text) { return errors_of(text.str()); }

// Loads `text`, failing the test with the errors when it does not load.
inline std::optional<Config> load_ok(const std::string& text) {
  std::vector<std::string> errors;
  auto config = load_string(text, "t.conf", errors);
  EXPECT_TRUE(config.has_value());
  for (const auto& e : errors) ADD_FAILURE() << e;
  return config;
}

inline std::optional<Config> load_ok(const ConfText& text) { return load_ok(text.str()); }

using Errors = std::vector<std::string>;

}  // namespace tern::conf::testing
