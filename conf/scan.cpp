#include "conf/scan.hpp"

#include <limits>

namespace tern::conf {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// libconfig 1.5 setting names: [A-Za-z*][-A-Za-z0-9_*]*
bool starts_name(char c) { return is_alpha(c) || c == '*'; }
bool continues_name(char c) { return starts_name(c) || is_digit(c) || c == '-' || c == '_'; }

// An unsigned magnitude that remembers when it no longer fits 64 bits.
struct Magnitude {
  uint64_t value = 0;
  bool overflow = false;

  void push(unsigned base, unsigned digit) {
    if (overflow) return;
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / base) {
      overflow = true;
      return;
    }
    value = value * base + digit;
  }
};

unsigned digit_value(char c) {
  if (is_digit(c)) return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
  return static_cast<unsigned>(c - 'A' + 10);
}

int64_t low_32_bits(uint64_t bits) {
  return static_cast<int32_t>(static_cast<uint32_t>(bits & 0xffffffffu));
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  SourceScan run() {
    while (pos_ < text_.size()) step();
    return std::move(out_);
  }

 private:
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  void advance() {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }

  void step() {
    const char c = peek();
    if (c == '\0') {
      if (!out_.nul_line) out_.nul_line = line_;
      advance();
    } else if (c == '#' || (c == '/' && peek(1) == '/')) {
      while (pos_ < text_.size() && peek() != '\n') advance();
    } else if (c == '/' && peek(1) == '*') {
      advance();
      advance();
      while (pos_ < text_.size() && !(peek() == '*' && peek(1) == '/')) advance();
      if (pos_ < text_.size()) {
        advance();
        advance();
      }
    } else if (c == '"') {
      const unsigned start = line_;
      advance();
      while (pos_ < text_.size() && peek() != '"') {
        if (peek() == '\0' && !out_.nul_line) out_.nul_line = line_;
        if (peek() == '\\' && pos_ + 1 < text_.size()) advance();
        advance();
      }
      if (pos_ < text_.size())
        advance();
      else
        out_.unterminated_string_line = start;
    } else if (c == '@') {
      if (text_.substr(pos_ + 1, 7) == "include") out_.include_lines.push_back(line_);
      advance();
    } else if (starts_name(c)) {
      while (pos_ < text_.size() && continues_name(peek())) advance();
    } else if (is_digit(c) || ((c == '-' || c == '+') && (is_digit(peek(1)) || peek(1) == '.')) ||
               c == '.') {
      number();
    } else {
      advance();
    }
  }

  void number() {
    const size_t start = pos_;
    const unsigned line = line_;
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X') && is_hex_digit(peek(2))) {
      advance();
      advance();
      Magnitude m;
      while (is_hex_digit(peek())) {
        m.push(16, digit_value(peek()));
        advance();
      }
      const bool suffixed = suffix();
      // libconfig reads hex with strtoull, saturating at 2^64 - 1.
      const uint64_t saturated = m.overflow ? std::numeric_limits<uint64_t>::max() : m.value;
      const bool fits =
          !m.overflow &&
          m.value <= static_cast<uint64_t>(suffixed ? std::numeric_limits<int64_t>::max()
                                                    : std::numeric_limits<int32_t>::max());
      if (fits) return;
      WideLiteral wide;
      wide.line = line;
      wide.text = std::string(text_.substr(start, pos_ - start));
      wide.suffixed = suffixed;
      wide.as_read = suffixed ? static_cast<int64_t>(saturated) : low_32_bits(saturated);
      if (!m.overflow && m.value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        wide.value = static_cast<int64_t>(m.value);
      out_.wide.push_back(std::move(wide));
      return;
    }
    const bool negative = peek() == '-';
    if (peek() == '-' || peek() == '+') advance();
    Magnitude m;
    while (is_digit(peek())) {
      m.push(10, digit_value(peek()));
      advance();
    }
    if (peek() == '.' || peek() == 'e' || peek() == 'E') {  // a float: not ours to judge
      while (
          is_digit(peek()) || peek() == '.' || peek() == 'e' || peek() == 'E' ||
          ((peek() == '-' || peek() == '+') && (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E')))
        advance();
      return;
    }
    const bool suffixed = suffix();
    // libconfig reads decimals with strtoll, saturating at the 64-bit limits.
    constexpr uint64_t kMaxPositive = std::numeric_limits<int64_t>::max();
    constexpr uint64_t kMaxNegative = kMaxPositive + 1;
    std::optional<int64_t> value;
    if (!m.overflow && m.value <= (negative ? kMaxNegative : kMaxPositive))
      value = negative ? static_cast<int64_t>(0 - m.value) : static_cast<int64_t>(m.value);
    const int64_t saturated = value ? *value
                                    : (negative ? std::numeric_limits<int64_t>::min()
                                                : std::numeric_limits<int64_t>::max());
    const bool fits = suffixed ? value.has_value()
                               : value && *value >= std::numeric_limits<int32_t>::min() &&
                                     *value <= std::numeric_limits<int32_t>::max();
    if (fits) return;
    WideLiteral wide;
    wide.line = line;
    wide.text = std::string(text_.substr(start, pos_ - start));
    wide.suffixed = suffixed;
    wide.as_read = suffixed ? saturated : low_32_bits(static_cast<uint64_t>(saturated));
    wide.value = value;
    out_.wide.push_back(std::move(wide));
  }

  // L or LL after an integer: libconfig's 64-bit forms.
  bool suffix() {
    if (peek() != 'L') return false;
    advance();
    if (peek() == 'L') advance();
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  unsigned line_ = 1;
  SourceScan out_;
};

}  // namespace

SourceScan scan_source(std::string_view text) { return Scanner(text).run(); }

}  // namespace tern::conf
