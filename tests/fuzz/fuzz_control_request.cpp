// libFuzzer target: the control socket's request parser (control/api/codec.hpp) on arbitrary
// lines, and the reply parser ternctl runs on what comes back. Invariants beyond "no crash, no
// leak, no undefined behaviour":
//  - a request that decodes encodes to one line that decodes to the same request (the same line
//    again);
//  - a refused line gets an error line that is one line of JSON and reads back as that error;
//  - no reply parser accepts a line as both a reply and an error.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "control/api/codec.hpp"

namespace {

using namespace tern::ctl::api;

template <typename Body>
void read_as_reply(std::string_view line) {
  const auto r = decode_reply<Body>(line);
  if (r) (void)to_json(r.value());
  const auto e = decode_reply<Body>(line, "trace");
  if (e) (void)to_json(e.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  std::optional<uint64_t> id;
  const auto request = decode_request(line, id);
  if (request) {
    const std::string encoded = encode_request(request.value(), id);
    if (encoded.find('\n') != std::string::npos) __builtin_trap();
    std::optional<uint64_t> again_id;
    const auto again = decode_request(encoded, again_id);
    if (!again || again_id != id || command_of(again.value()) != command_of(request.value())) __builtin_trap();
    if (encode_request(again.value(), again_id) != encoded) __builtin_trap();
  } else {
    const std::string answer = encode_error(request.error(), id);
    if (answer.find('\n') != std::string::npos) __builtin_trap();
    const auto back = decode_reply<KillReply>(answer);
    if (back || back.error().code != request.error().code) __builtin_trap();
  }
  read_as_reply<StatusReply>(line);
  read_as_reply<StatsReply>(line);
  read_as_reply<AllocationReply>(line);
  read_as_reply<TraceBatch>(line);
  (void)event_of(line);
  return 0;
}
