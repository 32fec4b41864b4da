#include "control/operator/metrics_http.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace tern::ctl {

// The libmicrohttpd callbacks, with access to MetricsHttp's members.
struct MetricsHttpAccess {
  static MHD_Result respond(MHD_Connection* connection, unsigned status, std::string_view content_type,
                            std::string_view body) {
    MHD_Response* response = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                             MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, std::string(content_type).c_str());
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    const MHD_Result r = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return r;
  }

  static MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method,
                               const char*, const char*, size_t* upload_size, void**) {
    auto& self = *static_cast<MetricsHttp*>(cls);
    constexpr std::string_view kText = "text/plain; charset=utf-8";
    const std::string_view m = method;
    const std::string_view path = url;
    if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD) {
      *upload_size = 0;  // a body, if any, is not read
      return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, kText, "only GET\n");
    }
    if (path == "/metrics") {
      ++self.scrapes_;
      return respond(connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", self.render_());
    }
    if (path == "/healthz") return respond(connection, MHD_HTTP_OK, kText, "ok\n");
    return respond(connection, MHD_HTTP_NOT_FOUND, kText, "not found: try /metrics\n");
  }

  __attribute__((format(printf, 2, 0))) static void on_log(void* cls, const char* format, va_list args) {
    auto& self = *static_cast<MetricsHttp*>(cls);
    char text[256];
    std::vsnprintf(text, sizeof text, format, args);
    std::string_view message = text;
    while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
    self.logger_.line(LogLevel::debug, "metrics_http").kv("message", message);
  }
};

MetricsHttp::MetricsHttp(EventLoop& loop, const Logger& logger, Render render, Limits limits)
    : loop_(loop), logger_(logger), render_(std::move(render)), limits_(limits) {}

MetricsHttp::~MetricsHttp() {
  if (epoll_fd_ >= 0) loop_.remove(epoll_fd_);
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

bool MetricsHttp::open(const TransportAddress& address, std::string& error) {
  sockaddr_storage storage{};
  unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  if (address.ip.is_v4()) {
    auto& sin = reinterpret_cast<sockaddr_in&>(storage);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(address.port.value);
    std::memcpy(&sin.sin_addr, address.ip.bytes().data(), 4);
  } else {
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(storage);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(address.port.value);
    std::memcpy(&sin6.sin6_addr, address.ip.bytes().data(), 16);
    flags |= MHD_USE_IPv6;
  }
  daemon_ = MHD_start_daemon(
      flags, address.port.value, nullptr, nullptr, &MetricsHttpAccess::on_request, this,
      MHD_OPTION_EXTERNAL_LOGGER, &MetricsHttpAccess::on_log, this,
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&storage),
      MHD_OPTION_CONNECTION_LIMIT, limits_.connections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits_.per_ip,
      MHD_OPTION_CONNECTION_TIMEOUT, limits_.timeout,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits_.memory,
      MHD_OPTION_END);
  if (daemon_ == nullptr) {
    error = "cannot serve metrics on " + address.to_string() + " (address in use or not ours?)";
    return false;
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD);
  epoll_fd_ = info != nullptr ? info->epoll_fd : -1;
  if (epoll_fd_ < 0 || !loop_.add(epoll_fd_, EPOLLIN, [this](uint32_t) { MHD_run(daemon_); })) {
    error = "cannot watch the metrics server";
    return false;
  }
  return true;
}

uint16_t MetricsHttp::port() const {
  if (daemon_ == nullptr) return 0;
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  return info != nullptr ? info->port : 0;
}

void MetricsHttp::tick() {
  if (daemon_ != nullptr) MHD_run(daemon_);
}

}  // namespace tern::ctl
