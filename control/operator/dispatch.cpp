#include "control/operator/dispatch.hpp"

#include <type_traits>
#include <utility>
#include <variant>

#include "control/api/codec.hpp"

namespace tern::ctl {

std::string Dispatcher::answer(std::string_view line, const Caller& caller, Now now, uint64_t now_ms,
                               uint64_t client, Tracer::Sink stream) {
  std::optional<uint64_t> id;
  auto decoded = api::decode_request(line, id);
  if (!decoded) {
    logger_.line(LogLevel::debug, "control_request_refused")
        .kv("uid", caller.uid)
        .kv("error", api::to_string(decoded.error().code))
        .kv("message", decoded.error().message);
    return api::encode_error(decoded.error(), id);
  }
  return std::visit(
      [&](const auto& request) -> std::string {
        using R = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<R, api::TraceRequest>) {
          auto reply = tracer_.start(request, caller, now_ms, client, id, std::move(stream));
          return reply ? api::encode_reply(reply.value(), id) : api::encode_error(reply.error(), id);
        } else {
          auto reply = op_.handle(request, caller, now);
          if constexpr (std::is_same_v<R, api::StatusRequest>)
            if (reply) reply->tracing = tracer_.address();
          return reply ? api::encode_reply(reply.value(), id) : api::encode_error(reply.error(), id);
        }
      },
      decoded.value());
}

}  // namespace tern::ctl
