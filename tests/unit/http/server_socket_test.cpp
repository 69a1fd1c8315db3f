// The server's connections: TCP_NODELAY on every accepted socket (a response is written in two pieces;
// with Nagle the second waits for the client's delayed ACK, ~40 ms per request on a keep-alive connection),
// and a keep-alive connection kept for many requests (not cpp-httplib's 5: a TLS handshake every 5th).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

#include "lib/http/server.h"

namespace otel::http {
namespace {

int localPort(int fd, bool* connected) {
  sockaddr_in a{}, peer{};
  socklen_t n = sizeof a, pn = sizeof peer;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) != 0 || a.sin_family != AF_INET) return -1;
  *connected = ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pn) == 0;
  return ntohs(a.sin_port);
}

// The option on this process's sockets bound to `port`: the listener and the accepted connections.
std::vector<int> noDelayOf(int port, bool acceptedOnly) {
  std::vector<int> out;
  for (int fd = 3; fd < 4096; ++fd) {
    bool connected = false;
    if (localPort(fd, &connected) != port || (acceptedOnly && !connected)) continue;
    int v = -1;
    socklen_t len = sizeof v;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0) out.push_back(v);
  }
  return out;
}

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

// One GET on the connection; the answer's head and body ("" when the connection failed or closed).
std::string roundTrip(int fd) {
  std::string req = "GET /x HTTP/1.1\r\nHost: x\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return "";
  std::string out;
  char buf[512];
  while (out.find("\r\n\r\nok") == std::string::npos) {  // the body "ok" ends the answer
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return "";
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

struct Fixture {
  Server server;
  int port = 0;
  Fixture() {
    server.get("/x", [](const Request&) { return Response{200, "text/plain", "ok"}; });
    port = server.bind("127.0.0.1:0");
    server.start();
  }
};

TEST(ServerSockets, AcceptedConnectionsHaveNagleOff) {
  Fixture f;
  int port = f.port;
  int fd = connectTo(port);
  ASSERT_GE(fd, 0);
  // one answered request on a keep-alive connection: the server holds the accepted socket open
  ASSERT_NE(roundTrip(fd), "");
  auto accepted = noDelayOf(port, true);
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_NE(accepted[0], 0);
  ::close(fd);
}

TEST(ServerSockets, AKeepAliveConnectionServesManyRequests) {
  Fixture f;
  int fd = connectTo(f.port);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 50; ++i) {
    std::string answer = roundTrip(fd);
    ASSERT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << "request " << i << ": " << answer;
    ASSERT_EQ(answer.find("Connection: close"), std::string::npos) << "closed after request " << i;
  }
  ::close(fd);
}

}  // namespace
}  // namespace otel::http
