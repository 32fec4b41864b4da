#include "control/ternctl/table.hpp"

#include <algorithm>
#include <cstdio>

namespace tern::ctl::ternctl {
namespace {

bool numeric(std::string_view cell) {
  if (cell.empty()) return false;
  return std::all_of(cell.begin(), cell.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == '/'; });
}

}  // namespace

std::string Table::text() const {
  std::vector<size_t> width(headers_.size(), 0);
  for (size_t i = 0; i < headers_.size(); ++i) width[i] = headers_[i].size();
  for (const auto& r : rows_)
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string text;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < cells.size() ? cells[i] : "";
      const size_t pad = width[i] - std::min(width[i], cell.size());
      const bool right = !header && numeric(cell);
      if (right) text.append(pad, ' ');
      text += cell;
      if (!right && i + 1 < width.size()) text.append(pad, ' ');
      if (i + 1 < width.size()) text += "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + '\n';
  };
  line(headers_, true);
  for (const auto& r : rows_) line(r, false);
  return out;
}

std::string duration(uint64_t s) {
  char text[64];
  if (s >= 86400)
    std::snprintf(text, sizeof text, "%llud %02lluh %02llum", static_cast<unsigned long long>(s / 86400),
                  static_cast<unsigned long long>(s / 3600 % 24), static_cast<unsigned long long>(s / 60 % 60));
  else if (s >= 3600)
    std::snprintf(text, sizeof text, "%lluh %02llum %02llus", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60));
  else if (s >= 60)
    std::snprintf(text, sizeof text, "%llum %02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  else
    std::snprintf(text, sizeof text, "%llus", static_cast<unsigned long long>(s));
  return text;
}

std::string bytes(uint64_t count) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(count);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0)
    std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(count));
  else
    std::snprintf(text, sizeof text, "%.1f %s", v, kUnits[unit]);
  return text;
}

}  // namespace tern::ctl::ternctl
