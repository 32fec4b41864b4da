#include "control/transport/tls_check.hpp"

#include "control/transport/stream_transport.hpp"
#include "control/transport/tls_certificates.hpp"
#include "control/transport/tls_context.hpp"

namespace tern::ctl {

void check_tls(const conf::Config& config, std::string_view file, time_t now, std::vector<std::string>& errors,
               std::vector<std::string>& warnings) {
  if (config.listen.tls.empty()) return;
  const TlsSettings all = tls_settings(config.tls);
  const auto where = [&](unsigned line) {
    return std::string(file) + (line > 0 ? ":" + std::to_string(line) : "") + ": tls.certificate: ";
  };
  for (size_t i = 0; i < config.tls.certificates.size(); ++i) {
    TlsSettings one = all;
    one.certificates = {all.certificates[i]};
    std::vector<std::string> e, w;
    inspect(one, now, e, w);
    for (const auto& m : e) errors.push_back(where(config.tls.certificates[i].line) + m);
    for (const auto& m : w) warnings.push_back(where(config.tls.certificates[i].line) + m);
  }
  if (!errors.empty()) return;
  std::string error;
  if (!TlsContext::create(all, error))
    errors.push_back(where(config.tls.certificates.empty() ? 0 : config.tls.certificates[0].line) + error);
}

}  // namespace tern::ctl
