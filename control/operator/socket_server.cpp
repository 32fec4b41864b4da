#include "control/operator/socket_server.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace tern::ctl {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxReadPerWakeup = 256 * 1024;  // then other clients and the punt rings get a turn

bool make_address(const std::string& path, sockaddr_un& addr, std::string& error) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    error = "control socket path '" + path + "' is empty or too long";
    return false;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

// Whether some process still accepts connections on the socket file at `addr`.
bool someone_listens(const sockaddr_un& addr) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool listening = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return listening;
}

}  // namespace

bool SocketServer::Client::send(std::string_view line) {
  if (dropped_) return false;
  if (queued() + line.size() + 1 > server_.limits_.max_output) {
    dropped_ = true;
    server_.logger_.line(LogLevel::warning, "control_client_dropped")
        .kv("client", id_)
        .kv("uid", uint64_t{uid_})
        .kv("reason", "too many unread answers");
    return false;
  }
  if (queued() == 0) last_progress_ = server_.now_;
  out_.append(line);
  out_ += '\n';
  server_.flush(*this);
  return !dropped_;
}

SocketServer::SocketServer(EventLoop& loop, const Logger& logger, LineHandler on_line, Limits limits)
    : loop_(loop), logger_(logger), on_line_(std::move(on_line)), limits_(limits) {}

SocketServer::~SocketServer() {
  for (auto& [id, c] : clients_) {
    loop_.remove(c->fd_);
    close(c->fd_);
  }
  clients_.clear();
  if (listen_fd_ >= 0) {
    loop_.remove(listen_fd_);
    close(listen_fd_);
    // Remove the file only if it is still ours (a successor may have replaced it).
    struct stat st {};
    if (stat(path_.c_str(), &st) == 0 && st.st_ino == inode_) unlink(path_.c_str());
  }
}

bool SocketServer::open(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  if (!make_address(path, addr, error)) return false;
  struct stat st {};
  // The directory (systemd's RuntimeDirectory) is made here when ternd runs without it, root's alone.
  if (const size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    const std::string dir = path.substr(0, slash);
    if (stat(dir.c_str(), &st) != 0 && mkdir(dir.c_str(), 0700) != 0) {
      error = "cannot create " + dir + " for the control socket: " + std::strerror(errno);
      return false;
    }
  }
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      error = path + " exists and is not a socket";
      return false;
    }
    if (someone_listens(addr)) {
      error = "another process is serving " + path;
      return false;
    }
    unlink(path.c_str());
  }
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  // Created 0600 from the start: no moment where another user could connect.
  const mode_t old_mask = umask(0177);
  const int bound = bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  umask(old_mask);
  if (bound != 0 || chmod(path.c_str(), 0600) != 0 || listen(listen_fd_, 16) != 0) {
    error = "cannot listen on " + path + ": " + std::strerror(bound != 0 ? bind_errno : errno);
    close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  path_ = path;
  if (stat(path.c_str(), &st) == 0) inode_ = st.st_ino;
  if (!loop_.add(listen_fd_, EPOLLIN, [this](uint32_t) { accept_clients(); })) {
    error = "cannot watch the control socket";
    return false;
  }
  return true;
}

SocketServer::Client* SocketServer::find(uint64_t id) {
  const auto it = clients_.find(id);
  return it == clients_.end() || it->second->dropped_ ? nullptr : it->second.get();
}

void SocketServer::accept_clients() {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error: the next wakeup tries again
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != 0 && cred.uid != geteuid())) {
      logger_.line(LogLevel::warning, "control_client_refused")
          .kv("uid", uint64_t{cred.uid})
          .kv("pid", int64_t{cred.pid})
          .kv("reason", "not root or ternd's user");
      close(fd);
      continue;
    }
    if (clients_.size() >= limits_.max_clients) {
      static constexpr std::string_view kBusy =
          R"({"v":1,"ok":false,"error":{"code":"busy","message":"too many control clients"}})"
          "\n";
      [[maybe_unused]] const ssize_t n = ::send(fd, kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      logger_.line(LogLevel::warning, "control_client_refused").kv("reason", "too many clients");
      close(fd);
      continue;
    }
    const uint64_t id = next_id_++;
    auto client = std::unique_ptr<Client>(new Client(*this, fd, id, cred.uid, cred.pid, now_));
    if (!loop_.add(fd, EPOLLIN, [this, id](uint32_t events) { on_client(id, events); })) {
      close(fd);
      continue;
    }
    clients_.emplace(id, std::move(client));
  }
}

void SocketServer::on_client(uint64_t id, uint32_t events) {
  const auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client& c = *it->second;
  if (events & (EPOLLERR | EPOLLHUP)) {
    // Both directions are shut: nothing more can be read or written.
    drop(id, "");
    return;
  }
  if (!c.dropped_ && (events & EPOLLOUT)) flush(c);
  // Lines that waited while the client's answers were above pause_output.
  if (!c.dropped_ && !c.closing_ && c.queued() <= limits_.pause_output && !c.in_.empty()) handle_lines(c);
  if (!c.dropped_ && (events & EPOLLIN) && c.reading_) read_from(c);
  if (c.closing_ && c.queued() == 0) c.dropped_ = true;
  if (c.dropped_) {
    drop(id, "");
    return;
  }
  update_events(c);
}

void SocketServer::read_from(Client& c) {
  std::array<char, kReadChunk> chunk;
  size_t total = 0;
  while (total < kMaxReadPerWakeup && !c.dropped_ && !c.closing_) {
    const ssize_t n = recv(c.fd_, chunk.data(), chunk.size(), 0);
    if (n > 0) {
      total += static_cast<size_t>(n);
      c.in_.append(chunk.data(), static_cast<size_t>(n));
      handle_lines(c);
      if (c.queued() > limits_.pause_output) break;
      continue;
    }
    if (n == 0) {
      // The client closed its side: answer what it sent, then go.
      c.closing_ = true;
      c.in_.clear();
      if (c.queued() == 0) c.dropped_ = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) c.dropped_ = true;
    return;
  }
}

void SocketServer::handle_lines(Client& c) {
  size_t start = 0;
  for (;;) {
    const size_t nl = c.in_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(c.in_.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = nl + 1;
    c.last_request_ = now_;
    if (line.size() > limits_.max_line) {
      c.send(R"({"v":1,"ok":false,"error":{"code":"too_large","message":"request line too long"}})");
      c.closing_ = true;
      break;
    }
    if (!line.empty()) on_line_(c, line);
    if (c.dropped_ || c.closing_ || c.queued() > limits_.pause_output) break;
  }
  c.in_.erase(0, start);
  if (!c.closing_ && c.in_.size() > limits_.max_line) {
    c.send(R"({"v":1,"ok":false,"error":{"code":"too_large","message":"request line too long"}})");
    c.closing_ = true;
  }
  if (c.closing_) c.in_.clear();
}

void SocketServer::flush(Client& c) {
  while (c.queued() > 0) {
    const ssize_t n = ::send(c.fd_, c.out_.data() + c.out_pos_, c.queued(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out_pos_ += static_cast<size_t>(n);
      c.last_progress_ = now_;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    c.dropped_ = true;  // EPIPE, ECONNRESET: the client is gone
    return;
  }
  if (c.out_pos_ == c.out_.size()) {
    c.out_.clear();
    c.out_pos_ = 0;
    if (c.closing_) c.dropped_ = true;
  } else if (c.out_pos_ > c.out_.size() / 2) {
    c.out_.erase(0, c.out_pos_);
    c.out_pos_ = 0;
  }
  update_events(c);
}

void SocketServer::update_events(Client& c) {
  if (c.dropped_) return;
  const bool want_read = !c.closing_ && c.queued() <= limits_.pause_output;
  const bool want_write = c.queued() > 0;
  if (want_read == c.reading_ && want_write == c.writing_) return;
  c.reading_ = want_read;
  c.writing_ = want_write;
  loop_.modify(c.fd_, (want_read ? EPOLLIN : 0u) | (want_write ? EPOLLOUT : 0u));
}

void SocketServer::drop(uint64_t id, std::string_view reason) {
  const auto it = clients_.find(id);
  if (it == clients_.end()) return;
  if (!reason.empty())
    logger_.line(LogLevel::warning, "control_client_dropped")
        .kv("client", id)
        .kv("uid", uint64_t{it->second->uid_})
        .kv("reason", reason);
  loop_.remove(it->second->fd_);
  close(it->second->fd_);
  clients_.erase(it);
  if (on_close_) on_close_(id);
}

void SocketServer::tick(uint32_t now) {
  now_ = now;
  std::vector<std::pair<uint64_t, std::string_view>> gone;
  for (const auto& [id, c] : clients_) {
    if (c->dropped_ || (c->closing_ && c->queued() == 0))
      gone.emplace_back(id, "");
    else if (c->queued() > 0 && now - c->last_progress_ >= limits_.stall)
      gone.emplace_back(id, "reads nothing of its answers");
    else if (c->queued() == 0 && !c->streaming_ && now - c->last_request_ >= limits_.idle)
      gone.emplace_back(id, "idle");
  }
  for (const auto& [id, reason] : gone) drop(id, reason);
}

}  // namespace tern::ctl
