// In-test TCP peers for tests of tcp:Client flows: a port with nothing listening, a listening socket
// that answers only when the test writes (TestUpstream), and its accepted connections (Peer).
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>

#include "support/deadline.hpp"

namespace flowd::test {

// A port on 127.0.0.1 with nothing listening: bound, read and closed again.
inline int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// The local port of a connected socket (what the flow sees as caller.remotePort).
inline int local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return ntohs(a.sin_port);
}

// One connection accepted by a TestUpstream: the test plays the upstream service by hand.
class Peer {
 public:
  explicit Peer(int fd) : fd_(fd) {}
  ~Peer() { close(); }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  bool send(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Reads exactly n bytes unless the deadline passes or the peer closes first.
  std::string read_exact(std::size_t n, Deadline deadline = deadline_in(kDefaultTimeout)) {
    std::string out;
    while (out.size() < n) {
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, poll_timeout_ms(deadline));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      char buf[4096];
      ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        eof_ = true;
        break;
      }
      out.append(buf, static_cast<std::size_t>(got));
    }
    return out;
  }
  // Reads (and discards) until EOF or reset; false if the deadline passes first.
  bool wait_closed(Deadline deadline = deadline_in(kDefaultTimeout)) {
    for (;;) {
      if (eof_) return true;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, poll_timeout_ms(deadline));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      char buf[4096];
      ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) eof_ = true;
    }
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool eof_ = false;
};

// A listening socket on 127.0.0.1: connections complete in the kernel's backlog whether or not the
// test accepts them, and nobody answers unless the test writes to an accepted Peer.
class TestUpstream {
 public:
  TestUpstream() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 64) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port_ = ntohs(a.sin_port);
  }
  ~TestUpstream() {
    if (fd_ >= 0) ::close(fd_);
  }
  TestUpstream(const TestUpstream&) = delete;
  TestUpstream& operator=(const TestUpstream&) = delete;

  int port() const { return port_; }
  // The next connection, or nullptr if none arrives by the deadline.
  std::unique_ptr<Peer> accept(Deadline deadline = deadline_in(kDefaultTimeout)) {
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, poll_timeout_ms(deadline));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return nullptr;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) return std::make_unique<Peer>(c);
      if (errno != EINTR && errno != EAGAIN) return nullptr;
    }
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace flowd::test
