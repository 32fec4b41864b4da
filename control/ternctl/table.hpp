#pragma once
// Plain-text tables for ternctl: a header row, aligned columns (numbers to the right), two spaces
// between columns.
//
//   Table t({"ID", "USER", "RELAYED"});
//   t.row({"3", "alice", "192.0.2.10:50001"});
//   std::fputs(t.text().c_str(), stdout);

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tern::ctl::ternctl {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }
  std::string text() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// 1234567 -> "1234567"; durations as "1h 02m 03s", "4m 05s", "6s".
std::string duration(uint64_t seconds);
// Byte counts with a binary unit: "1.5 KiB".
std::string bytes(uint64_t count);

}  // namespace tern::ctl::ternctl
