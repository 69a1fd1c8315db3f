// The HTTP server's bounds (issue 14): a request body past the limit is answered 413 unread, and a client
// that stops sending is disconnected after the read timeout.
#include "lib/http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace otel::http {
namespace {

int connectTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{30, 0};  // the bound of every wait below
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void sendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Reads until the server closes the connection (or the 30 s bound passes): what it answered.
std::string readToClose(int fd, bool* closed) {
  std::string out;
  char buf[4096];
  *closed = false;
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) {
      *closed = true;
      break;
    }
    if (n < 0) break;  // the bound passed
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

struct Fixture {
  Server server;
  int port = 0;
  int bodies = 0;
  explicit Fixture(const ServerLimits& limits) {
    server.setLimits(limits);
    server.post("/echo", [this](const Request& r) {
      ++bodies;
      return Response{200, "text/plain", "ok " + std::to_string(r.body.size())};
    });
    port = server.bind("127.0.0.1:0");
    server.start();
  }
};

TEST(ServerLimits, DefaultsAreDocumented) {
  ServerLimits d;
  EXPECT_EQ(d.maxBodyBytes, size_t{8} << 20);
  EXPECT_EQ(d.readTimeoutSeconds, 10);
}

TEST(ServerLimits, ABodyPastTheLimitIsAnswered413WithoutBeingStored) {
  ServerLimits l;
  l.maxBodyBytes = 1000;
  l.readTimeoutSeconds = 1;  // cpp-httplib discards the announced body before it answers: until it stalls
  Fixture f(l);
  int fd = connectTo(f.port);
  ASSERT_GE(fd, 0);
  // Announces 1 GB and sends only the headers: the answer comes without the body.
  sendAll(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n");
  bool closed = false;
  std::string answer = readToClose(fd, &closed);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_EQ(f.bodies, 0);
  // Within the limit: served.
  fd = connectTo(f.port);
  sendAll(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  answer = readToClose(fd, &closed);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("ok 5"), std::string::npos) << answer;
  EXPECT_EQ(f.bodies, 1);
}

TEST(ServerLimits, AChunkedBodyPastTheLimitIsRefused) {
  ServerLimits l;
  l.maxBodyBytes = 1000;
  l.readTimeoutSeconds = 1;
  Fixture f(l);
  int fd = connectTo(f.port);
  ASSERT_GE(fd, 0);
  std::string chunk(600, 'x');
  sendAll(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  for (int i = 0; i < 4; ++i) sendAll(fd, "258\r\n" + chunk + "\r\n");
  sendAll(fd, "0\r\n\r\n");
  bool closed = false;
  std::string answer = readToClose(fd, &closed);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_EQ(f.bodies, 0);
}

TEST(ServerLimits, AClientThatStopsSendingIsDisconnected) {
  ServerLimits l;
  l.readTimeoutSeconds = 1;
  Fixture f(l);
  int fd = connectTo(f.port);
  ASSERT_GE(fd, 0);
  auto start = std::chrono::steady_clock::now();
  sendAll(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial");  // then nothing
  bool closed = false;
  readToClose(fd, &closed);  // waits on the server's close, bounded by 30 s
  ::close(fd);
  EXPECT_TRUE(closed) << "the server kept the stalled connection past the 30 s bound";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(f.bodies, 0);
}

}  // namespace
}  // namespace otel::http
