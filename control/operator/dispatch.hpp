#pragma once
// One control socket request line in, its answer line out: decode (api/codec.hpp), call the
// operator core with the typed request, encode the typed reply or the error. A malformed line
// gets a JSON error, never anything worse. `trace` answers with a line and then streams: the
// Tracer takes the client's sink and sends the records itself.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "control/base/clock.hpp"
#include "control/base/log.hpp"
#include "control/operator/commands.hpp"
#include "control/operator/tracer.hpp"

namespace tern::ctl {

class Dispatcher {
 public:
  Dispatcher(OperatorCommands& op, Tracer& tracer, const Logger& logger) : op_(op), tracer_(tracer), logger_(logger) {}

  // The answer to `line`. `stream` is where a trace sends its records, `client` names it; `now_ms`
  // is the tracer's clock.
  std::string answer(std::string_view line, const Caller& caller, Now now, uint64_t now_ms, uint64_t client,
                     Tracer::Sink stream);

 private:
  OperatorCommands& op_;
  Tracer& tracer_;
  const Logger& logger_;
};

}  // namespace tern::ctl
