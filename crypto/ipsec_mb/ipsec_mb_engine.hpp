#pragma once
#include <memory>

#include "crypto/engine.hpp"

namespace tern::crypto {
// The default backend: Intel IPsec-MB. nullptr when this CPU cannot run it.
std::unique_ptr<Engine> make_ipsec_mb_engine();
}  // namespace tern::crypto
