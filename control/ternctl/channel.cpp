#include "control/ternctl/channel.hpp"

#include <chrono>

namespace tern::ctl::ternctl {

std::optional<std::vector<uint8_t>> UdpChannel::receive(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return std::nullopt;
    auto d = socket_->receive(static_cast<int>(left));
    if (!d) return std::nullopt;
    if (d->from == server_) return std::move(d->bytes);
  }
}

}  // namespace tern::ctl::ternctl
