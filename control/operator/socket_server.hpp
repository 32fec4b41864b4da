#pragma once
// The control socket: a Unix stream socket (mode 0600) served on the control lcore's EventLoop,
// one request per line in, lines out (api/codec.hpp). Only root and ternd's own uid may talk to it
// (SO_PEERCRED, checked when a connection is accepted).
//
// Nothing a client does can stall the control plane: every socket is non-blocking; a client's
// unread request bytes are capped (a line longer than max_line is refused and the connection
// closed), and so are the answers waiting for it (max_output: a client that lets more pile up is
// dropped); one that reads nothing for `stall` seconds while answers wait, or sends nothing for
// `idle` seconds and follows no stream, is dropped too. Reading stops while a client's answers
// are above `pause_output`, so a client that pipelines requests without reading gets no further.
//
//   SocketServer server(loop, logger, [&](SocketServer::Client& c, std::string_view line) {
//     c.send(answer(line));
//   });
//   server.open("/run/tern/ternd.sock", error);
//   // about once a second: server.tick(now_seconds);

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "control/base/event_loop.hpp"
#include "control/base/log.hpp"

namespace tern::ctl {

class SocketServer {
 public:
  struct Limits {
    size_t max_clients = 32;
    size_t max_line = 64 * 1024;
    size_t max_output = 32u << 20;    // bytes of answers waiting for one client
    size_t pause_output = 1u << 20;   // stop reading its requests above this
    uint32_t stall = 10;              // seconds without reading while answers wait
    uint32_t idle = 300;              // seconds without a request (unless following a stream)
  };

  class Client {
   public:
    uint64_t id() const { return id_; }
    uid_t uid() const { return uid_; }
    pid_t pid() const { return pid_; }
    // Queues a line ('\n' is added). false when the client is gone or was dropped for letting
    // too much pile up.
    bool send(std::string_view line);
    // A client following a stream (trace) is not idle while it waits.
    void set_streaming(bool on) { streaming_ = on; }
    // Closes once everything queued is written.
    void close_after_flush() { closing_ = true; }
    size_t queued() const { return out_.size() - out_pos_; }

   private:
    friend class SocketServer;
    Client(SocketServer& server, int fd, uint64_t id, uid_t uid, pid_t pid, uint32_t now)
        : server_(server), fd_(fd), id_(id), uid_(uid), pid_(pid), last_request_(now), last_progress_(now) {}

    SocketServer& server_;
    int fd_;
    uint64_t id_;
    uid_t uid_;
    pid_t pid_;
    std::string in_;
    std::string out_;
    size_t out_pos_ = 0;
    bool reading_ = true;
    bool writing_ = false;
    bool streaming_ = false;
    bool closing_ = false;
    bool dropped_ = false;
    uint32_t last_request_;
    uint32_t last_progress_;  // last time its queue was empty or a write made progress
  };

  using LineHandler = std::function<void(Client&, std::string_view line)>;
  using CloseHandler = std::function<void(uint64_t client)>;

  SocketServer(EventLoop& loop, const Logger& logger, LineHandler on_line, Limits limits);
  SocketServer(EventLoop& loop, const Logger& logger, LineHandler on_line)
      : SocketServer(loop, logger, std::move(on_line), Limits{}) {}
  ~SocketServer();
  SocketServer(const SocketServer&) = delete;
  SocketServer& operator=(const SocketServer&) = delete;

  void on_close(CloseHandler handler) { on_close_ = std::move(handler); }

  // Creates the socket at `path` (and its directory, mode 0700, when that is missing). A stale
  // socket file is replaced; one another process still listens on is not. false with a message
  // when it cannot.
  bool open(const std::string& path, std::string& error);
  // Drops stalled and idle clients. `now`: seconds on any monotonic clock.
  void tick(uint32_t now);
  void set_time(uint32_t now) { now_ = now; }

  size_t clients() const { return clients_.size(); }
  Client* find(uint64_t id);

 private:
  void accept_clients();
  void on_client(uint64_t id, uint32_t events);
  void read_from(Client& c);
  void handle_lines(Client& c);
  void flush(Client& c);
  void update_events(Client& c);
  void drop(uint64_t id, std::string_view reason);

  EventLoop& loop_;
  const Logger& logger_;
  LineHandler on_line_;
  CloseHandler on_close_;
  Limits limits_;
  int listen_fd_ = -1;
  std::string path_;
  ino_t inode_ = 0;
  uint64_t next_id_ = 1;
  uint32_t now_ = 0;
  std::map<uint64_t, std::unique_ptr<Client>> clients_;
};

}  // namespace tern::ctl
