#pragma once
// ternctl's end of the control socket: connect, send a request line, read answer lines.
// Blocking, with a timeout on every read.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "control/api/codec.hpp"

namespace tern::ctl::ternctl {

class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // nullptr with a message naming the likely cause (no ternd, not root, wrong path).
  static std::unique_ptr<Connection> open(const std::string& path, std::string& error);

  bool send(std::string_view line, std::string& error);
  // A send or read failed (or timed out): the errors that follow are ternctl's, not ternd's.
  bool broken() const { return broken_; }
  // The next line, without its '\n'. nullopt on timeout, end of stream or error (in `error`).
  // timeout_ms < 0 waits as long as it takes.
  std::optional<std::string> read_line(int timeout_ms, std::string& error);

  // One request, its one reply.
  template <typename Request>
  api::Result<typename Request::Reply> call(const Request& request, int timeout_ms) {
    std::string error;
    if (!send(api::encode_request(request), error)) return api::Error{api::ErrorCode::failed, error};
    const auto line = read_line(timeout_ms, error);
    if (!line) return api::Error{api::ErrorCode::failed, error};
    return api::decode_reply<typename Request::Reply>(*line);
  }

 private:
  explicit Connection(int fd) : fd_(fd) {}
  int fd_;
  bool broken_ = false;
  std::string buffer_;
};

}  // namespace tern::ctl::ternctl
