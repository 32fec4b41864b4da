#pragma once
// What a control socket command returns: its typed reply, or an Error that says what went wrong
// in words an operator can act on. The error codes are part of the protocol (api/protocol.hpp).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tern::ctl::api {

enum class ErrorCode : uint8_t {
  parse_error,          // the line is not a JSON object
  bad_request,          // JSON, but a field is missing, unknown, of the wrong type or out of range
  unsupported_version,  // "v" is not a protocol version this server speaks
  unknown_command,      // "cmd" names no command
  too_large,            // the request line is longer than the server accepts
  not_found,            // the allocation, user or secret named does not exist
  busy,                 // only one trace runs at a time
  invalid_config,       // reload: the file has errors; nothing was changed (details: the errors)
  failed,               // the command could not be carried out (message says why)
};
std::string_view to_string(ErrorCode code);
bool parse_error_code(std::string_view text, ErrorCode& out);

struct Error {
  ErrorCode code = ErrorCode::failed;
  std::string message;
  std::vector<std::string> details = {};
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose, `return reply;`
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error bad_request(std::string message) { return {ErrorCode::bad_request, std::move(message)}; }
inline Error not_found(std::string message) { return {ErrorCode::not_found, std::move(message)}; }

}  // namespace tern::ctl::api
