#pragma once
// The TLS side of `ternd --check`, of startup and of reload: the certificates the configuration
// names (readable, each key matching its certificate, not expired: errors; expiring within 30
// days, no IP or DNS name: warnings), and the whole `tls` group as OpenSSL takes it (versions,
// ciphers that can use the certificates). Messages name the file and line, as the loader's do:
//
//   ternd.conf:31: tls.certificate: /etc/tern/tls/fullchain.pem: expired 3 days ago

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"

namespace tern::ctl {

// Appends what is wrong to `errors` and what will be to `warnings`; nothing when the
// configuration has no TLS listener.
void check_tls(const conf::Config& config, std::string_view file, time_t now, std::vector<std::string>& errors,
               std::vector<std::string>& warnings);

}  // namespace tern::ctl
