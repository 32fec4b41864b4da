#include "control/transport/tls_openssl.hpp"

#include <openssl/err.h>

namespace tern::ctl {

std::string openssl_errors(std::string_view fallback) {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text.empty() ? std::string(fallback) : text;
}

}  // namespace tern::ctl
