#pragma once
// The control socket protocol, version 1, and its one codec: ternd decodes requests and encodes
// replies with it, ternctl encodes requests and decodes replies with it.
//
// A Unix stream socket; one JSON object per line each way (UTF-8, '\n' ends a line).
//
//   request   {"v":1, "cmd":"allocations", "id":7, "user":"alice", "limit":10}
//   reply     {"v":1, "id":7, "ok":true, "result":{"total":3, "truncated":false, "allocations":[...]}}
//   error     {"v":1, "id":7, "ok":false, "error":{"code":"bad_request", "message":"...", "details":[...]}}
//   stream    {"v":1, "id":7, "event":"trace", "result":{...}}  ... then {"v":1, "id":7, "event":"trace_end", ...}
//
// "v" is required and must be a version the server speaks (kProtocolVersion); "id" is optional, an
// unsigned integer echoed in every line answering that request. A request's arguments sit next to
// "cmd"; an argument the command does not know is an error (a typo is never ignored), while a
// client ignores result fields it does not know (a newer server may add some). Requests are
// answered in order. Lines longer than kMaxRequestLine are refused (too_large) and the
// connection closed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "control/api/result.hpp"
#include "control/api/types.hpp"

namespace tern::ctl::api {

inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr size_t kMaxRequestLine = 64 * 1024;

struct IncomingRequest {
  std::optional<uint64_t> id;
  Request request;
};

// Every reply and event body the protocol carries.
#define TERN_API_BODIES(X)                                                                            \
  X(VersionReply) X(StatusReply) X(StatsReply) X(AllocationsReply) X(AllocationReply) X(KillReply) \
  X(UsersListReply) X(UsersAddReply) X(UsersRemoveReply) X(SecretsReply) X(ReloadReply) X(DrainReply) \
  X(ProbeReply) X(ProbeDoneReply) X(ProbeReport) X(TraceReply) X(TraceBatch) X(TraceEnd)

// ---- server side ----
// One request line (without its '\n'). On failure, `id` holds the line's "id" when it had a
// readable one, so the error can carry it.
Result<Request> decode_request(std::string_view line, std::optional<uint64_t>& id);
template <typename Body>
std::string encode_reply(const Body& body, std::optional<uint64_t> id);
std::string encode_error(const Error& error, std::optional<uint64_t> id);
template <typename Body>
std::string encode_event(std::string_view event, const Body& body, std::optional<uint64_t> id);

// ---- client side ----
std::string encode_request(const Request& request, std::optional<uint64_t> id = {});
// The "event" of a line, or nullopt for a plain reply (or a line that is not JSON).
std::optional<std::string> event_of(std::string_view line);
// A reply line (or, with `event`, a stream line of that event) decoded into its body; the error
// the server sent, or a parse_error/bad_request describing what was wrong with the line.
template <typename Body>
Result<Body> decode_reply(std::string_view line, std::string_view event = {});

// A body alone as one line of JSON (ternctl --json prints these).
template <typename Body>
std::string to_json(const Body& body);

}  // namespace tern::ctl::api
