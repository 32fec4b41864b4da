#pragma once
#include <cstdint>
#include <memory>

#include "crypto/engine.hpp"

namespace tern::crypto {

// Which IPsec-MB multi-buffer manager runs a given call shape. The defaults are the fastest
// measured (see ipsec_mb_engine.cpp); the alternatives exist so that bm_crypto can show why.
struct IpsecMbOptions {
  enum class Manager : uint8_t {
    sse,        // init_mb_mgr_sse: SHA-NI where the CPU has it, two lanes, nothing to flush
    automatic,  // init_mb_mgr_auto: the widest the CPU has (AVX-512: sixteen lanes)
  };
  enum class Batch : uint8_t {
    split,      // whole sets of the automatic manager's lanes to it, the rest to the SSE manager
    sse,        // the whole batch to the SSE manager
    automatic,  // the whole batch to the automatic manager
  };
  Manager single_mac = Manager::sse;  // Engine::mac
  Batch batch = Batch::split;         // Engine::mac_batch / verify_batch
  // Submit through IPsec-MB's validating entry points, which refuse (and leave uncomputed) a job
  // outside the library's contract. The engine builds only valid jobs, so production skips the
  // checks; the tests turn them on to prove it.
  bool check_jobs = false;
};

// The default backend: Intel IPsec-MB. nullptr when this CPU cannot run it.
std::unique_ptr<Engine> make_ipsec_mb_engine();
std::unique_ptr<Engine> make_ipsec_mb_engine(const IpsecMbOptions& options);

}  // namespace tern::crypto
