#include "control/base/base64.hpp"

#include <array>

namespace tern::ctl {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_values() {
  std::array<int8_t, 256> values{};
  for (auto& v : values) v = -1;
  for (size_t i = 0; i < kAlphabet.size(); ++i) values[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return values;
}
constexpr std::array<int8_t, 256> kValues = make_values();

}  // namespace

size_t base64_encode(std::span<const uint8_t> in, std::span<char> out) {
  size_t o = 0;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  const size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (rest == 2) v |= uint32_t{in[i + 1]} << 8;
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return o;
}

bool base64_decode(std::string_view text, std::span<uint8_t> out) {
  if (text.size() != base64_size(out.size())) return false;
  size_t o = 0;
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    size_t chars = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=') break;
      const int d = kValues[static_cast<uint8_t>(c)];
      if (d < 0) return false;
      v |= static_cast<uint32_t>(d) << (18 - 6 * k);
      ++chars;
    }
    const size_t bytes = chars == 4 ? 3 : chars == 3 ? 2 : chars == 2 ? 1 : 0;
    if (bytes == 0) return false;
    // Padding only where the group is short, and only at the end.
    for (size_t k = chars; k < 4; ++k)
      if (text[i + k] != '=') return false;
    if (chars < 4 && i + 4 != text.size()) return false;
    for (size_t b = 0; b < bytes; ++b) {
      if (o >= out.size()) return false;
      out[o++] = static_cast<uint8_t>(v >> (16 - 8 * b));
    }
  }
  return o == out.size();
}

}  // namespace tern::ctl
