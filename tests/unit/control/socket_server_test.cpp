// The control socket server: lines in, lines out, in order; its file mode and peer check; and
// that no client can make it hold unbounded memory or wait: long lines, unread answers, silence.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>

#include "control/operator/socket_server.hpp"
#include "tests/unit/control/operator_test_util.hpp"
#include "tests/unit/control/socket_test_util.hpp"

namespace tern::ctl::test {
namespace {

class SocketServerTest : public ::testing::Test {
 protected:
  void open(SocketServer::Limits limits = {}) {
    server = std::make_unique<SocketServer>(
        loop, logger,
        [this](SocketServer::Client& c, std::string_view line) {
          lines.emplace_back(line);
          if (line == "big")
            c.send(std::string(256 * 1024, 'b'));
          else if (line == "stream")
            c.set_streaming(true);
          else
            c.send("got " + std::string(line));
        },
        limits);
    server->on_close([this](uint64_t id) { closed.push_back(id); });
    std::string error;
    ASSERT_TRUE(server->open(path, error)) << error;
  }
  std::unique_ptr<LoopClient> connect() {
    const int fd = LoopClient::unix_socket(path);
    EXPECT_GE(fd, 0);
    auto c = std::make_unique<LoopClient>(loop, fd);
    c->turn(3);  // accepted
    return c;
  }
  bool logged(std::string_view needle) const {
    for (const auto& l : log)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }

  TempDir dir;
  std::string path = dir.file("ternd.sock");
  EventLoop loop;
  std::vector<std::string> log;
  Logger logger{LogLevel::debug, [this](LogLevel, std::string_view l) { log.emplace_back(l); }};
  std::unique_ptr<SocketServer> server;
  std::vector<std::string> lines;
  std::vector<uint64_t> closed;
};

TEST_F(SocketServerTest, AnswersEveryLineInOrderHoweverItArrives) {
  open();
  auto c = connect();
  ASSERT_TRUE(c->write("one\ntwo\r\n\nthr"));
  EXPECT_EQ(c->line(), "got one");
  EXPECT_EQ(c->line(), "got two");
  ASSERT_TRUE(c->write("ee\n"));
  EXPECT_EQ(c->line(), "got three");
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "three"}));  // the empty line is skipped
  EXPECT_EQ(server->clients(), 1u);
}

TEST_F(SocketServerTest, TheSocketIsOnlyRootsAndOnlyRootMayTalk) {
  open();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  if (geteuid() != 0) GTEST_SKIP() << "the peer check needs root to try as another user";

  // Even with the file opened up, another user's connection is refused by its credentials.
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);
  const pid_t child = fork();
  if (child == 0) {
    if (setuid(65534) != 0) _exit(2);
    const int fd = LoopClient::unix_socket(path);
    if (fd < 0) _exit(3);
    [[maybe_unused]] const ssize_t sent = ::send(fd, "status\n", 7, MSG_NOSIGNAL);
    char buffer[64];
    // The server closes without a word (a reset, as our request went unread).
    _exit(recv(fd, buffer, sizeof buffer, 0) <= 0 ? 0 : 4);
  }
  int status = 0;
  for (int turns = 0; turns < 5000 && waitpid(child, &status, WNOHANG) == 0; ++turns) loop.poll(std::chrono::milliseconds(1));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(lines.empty());
  EXPECT_TRUE(logged("event=control_client_refused uid=65534"));
}

TEST_F(SocketServerTest, AMissingDirectoryIsMadeForRootAlone) {
  path = dir.file("run/ternd.sock");
  open();
  struct stat st {};
  ASSERT_EQ(stat(dir.file("run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto c = connect();
  ASSERT_TRUE(c->write("here\n"));
  EXPECT_EQ(c->line(), "got here");
}

TEST_F(SocketServerTest, AStaleSocketIsReplacedALiveOneIsNot) {
  open();
  SocketServer second(loop, logger, [](SocketServer::Client&, std::string_view) {});
  std::string error;
  EXPECT_FALSE(second.open(path, error));
  EXPECT_NE(error.find("another process"), std::string::npos);
  server.reset();  // removes its file
  struct stat st {};
  EXPECT_NE(stat(path.c_str(), &st), 0);

  // A socket file nobody listens on (a crashed ternd's) is taken over.
  {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    close(fd);
  }
  open();
  auto c = connect();
  ASSERT_TRUE(c->write("hello\n"));
  EXPECT_EQ(c->line(), "got hello");

  std::ofstream(dir.file("plain")) << "not a socket";
  SocketServer third(loop, logger, [](SocketServer::Client&, std::string_view) {});
  EXPECT_FALSE(third.open(dir.file("plain"), error));
  EXPECT_NE(error.find("not a socket"), std::string::npos);
}

TEST_F(SocketServerTest, ALineTooLongIsRefusedAndTheClientClosed) {
  open({.max_line = 1024});
  auto c = connect();
  ASSERT_TRUE(c->write(std::string(1500, 'x')));  // no newline yet: already over
  const auto answer = c->line();
  ASSERT_TRUE(answer);
  EXPECT_NE(answer->find(R"("code":"too_large")"), std::string::npos);
  EXPECT_TRUE(c->closed());
  EXPECT_TRUE(lines.empty());
  c->turn(3);
  EXPECT_EQ(server->clients(), 0u);
  EXPECT_EQ(closed.size(), 1u);
}

TEST_F(SocketServerTest, AClientThatReadsNothingIsDroppedAfterTheStallTime) {
  open({.stall = 10});
  server->tick(100);
  auto c = connect();
  ASSERT_TRUE(c->write("big\nbig\nbig\nbig\n"));
  c->turn(20);
  ASSERT_EQ(server->clients(), 1u);
  server->tick(105);
  EXPECT_EQ(server->clients(), 1u);
  server->tick(110);
  EXPECT_EQ(server->clients(), 0u);
  // The client is this process: root, or ternd's own user when not run as root.
  EXPECT_TRUE(logged("event=control_client_dropped client=1 uid=" + std::to_string(geteuid()) +
                     " reason=\"reads nothing of its answers\""));
  EXPECT_EQ(closed, std::vector<uint64_t>{1});
}

TEST_F(SocketServerTest, ReadingStopsWhileAnswersPileUp) {
  open({.max_output = 8u << 20, .pause_output = 512 * 1024});
  auto c = connect();
  std::string many;
  for (int i = 0; i < 200; ++i) many += "big\n";
  c->write(many);
  c->turn(50);
  // Far fewer than 200 were taken: the server waits for the client to read.
  EXPECT_LT(lines.size(), 40u);
  EXPECT_GT(lines.size(), 0u);
  EXPECT_EQ(server->clients(), 1u);
  // Reading the answers lets the rest through.
  size_t answers = 0;
  while (c->line(200)) ++answers;
  EXPECT_EQ(answers, 200u);
  EXPECT_EQ(lines.size(), 200u);
}

TEST_F(SocketServerTest, AStreamTooFastForItsClientDropsTheClient) {
  open({.max_output = 1u << 20});
  auto c = connect();
  ASSERT_TRUE(c->write("stream\n"));
  c->turn(5);
  SocketServer::Client* client = server->find(1);
  ASSERT_NE(client, nullptr);
  const std::string record(64 * 1024, 'r');
  bool accepted = true;
  for (int i = 0; i < 200 && accepted; ++i) accepted = client->send(record);
  EXPECT_FALSE(accepted);
  EXPECT_EQ(server->find(1), nullptr);
  server->tick(1);
  EXPECT_EQ(server->clients(), 0u);
  EXPECT_TRUE(logged("reason=\"too many unread answers\""));
}

TEST_F(SocketServerTest, SilentClientsGoUnlessTheyFollowAStream) {
  open({.idle = 300});
  server->tick(1000);
  auto quiet = connect();
  auto follower = connect();
  ASSERT_TRUE(follower->write("stream\n"));
  follower->turn(5);
  server->tick(1299);
  EXPECT_EQ(server->clients(), 2u);
  server->tick(1300);
  EXPECT_EQ(server->clients(), 1u);
  EXPECT_TRUE(quiet->closed());
  EXPECT_NE(server->find(2), nullptr);
}

TEST_F(SocketServerTest, ClientsBeyondTheLimitAreToldAndClosed) {
  open({.max_clients = 2});
  auto a = connect();
  auto b = connect();
  auto c = connect();
  const auto answer = c->line();
  ASSERT_TRUE(answer);
  EXPECT_NE(answer->find(R"("code":"busy")"), std::string::npos);
  EXPECT_TRUE(c->closed());
  EXPECT_EQ(server->clients(), 2u);
  ASSERT_TRUE(a->write("x\n"));
  EXPECT_EQ(a->line(), "got x");
}

TEST_F(SocketServerTest, AClientThatHangsUpIsForgotten) {
  open();
  {
    auto c = connect();
    ASSERT_TRUE(c->write("bye\n"));
  }
  for (int i = 0; i < 100 && server->clients() > 0; ++i) loop.poll(std::chrono::milliseconds(1));
  EXPECT_EQ(server->clients(), 0u);
  EXPECT_EQ(closed, std::vector<uint64_t>{1});
}

}  // namespace
}  // namespace tern::ctl::test
