#include "control/transport/tls_settings.hpp"

namespace tern::ctl {

std::string_view to_string(TlsVersion version) {
  return version == TlsVersion::tls1_3 ? "1.3" : "1.2";
}

std::optional<TlsVersion> parse_tls_version(std::string_view text) {
  if (text == "1.2") return TlsVersion::tls1_2;
  if (text == "1.3") return TlsVersion::tls1_3;
  return std::nullopt;
}

}  // namespace tern::ctl
