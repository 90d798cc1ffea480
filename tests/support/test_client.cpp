#include "support/test_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace flowd::test {

std::string errno_text(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

// Polls fd for `events` until the deadline. Returns revents (0 on timeout, -1 on poll error).
int wait_fd(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (r > 0) return p.revents;
    if (r == 0) {
      if (Clock::now() >= deadline) return 0;
      continue;  // poll rounds to whole milliseconds
    }
    if (errno != EINTR) return -1;
  }
}

int connect_loopback(int port, Deadline deadline, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("socket", errno);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      error = errno_text("connect", errno);
      ::close(fd);
      return -1;
    }
    const int rev = wait_fd(fd, POLLOUT, deadline);
    if (rev <= 0) {
      error = rev == 0 ? "connect: timed out" : errno_text("poll", errno);
      ::close(fd);
      return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      error = errno_text("connect", err);
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

TestClient::TestClient(int port, Deadline deadline) { connect(port, deadline); }

TestClient::~TestClient() { close(); }

TestClient::TestClient(TestClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      port_(other.port_),
      peer_closed_(other.peer_closed_),
      last_error_(std::move(other.last_error_)) {}

TestClient& TestClient::operator=(TestClient&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    port_ = other.port_;
    peer_closed_ = other.peer_closed_;
    last_error_ = std::move(other.last_error_);
  }
  return *this;
}

bool TestClient::connect(int port, Deadline deadline) {
  close();
  port_ = port;
  peer_closed_ = false;
  last_error_.clear();
  const int fd = connect_loopback(port, deadline, last_error_);
  if (fd < 0) return false;
  fd_ = fd;
  return true;
}

bool TestClient::send(std::string_view data, Deadline deadline) {
  if (fd_ < 0) {
    last_error_ = "send: not connected";
    return false;
  }
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const int rev = wait_fd(fd_, POLLOUT, deadline);
      if (rev == 0) {
        last_error_ = "send: timed out after " + std::to_string(sent) + " of " + std::to_string(data.size()) +
                      " bytes";
        return false;
      }
      if (rev < 0) {
        last_error_ = errno_text("poll", errno);
        return false;
      }
      continue;
    }
    last_error_ = errno_text("send", errno);
    return false;
  }
  return true;
}

std::string TestClient::read_exact(std::size_t n, Deadline deadline) {
  std::string out;
  if (fd_ < 0) {
    last_error_ = "read: not connected";
    return out;
  }
  char buf[4096];
  while (out.size() < n) {
    const std::size_t want = std::min(sizeof buf, n - out.size());
    const ssize_t r = ::recv(fd_, buf, want, 0);
    if (r > 0) {
      out.append(buf, static_cast<std::size_t>(r));
      continue;
    }
    if (r == 0) {
      peer_closed_ = true;
      last_error_ = "read: connection closed by the server after " + std::to_string(out.size()) + " of " +
                    std::to_string(n) + " bytes";
      return out;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      const int rev = wait_fd(fd_, POLLIN, deadline);
      if (rev == 0) {
        last_error_ = "read: timed out after " + std::to_string(out.size()) + " of " + std::to_string(n) +
                      " bytes";
        return out;
      }
      if (rev < 0) {
        last_error_ = errno_text("poll", errno);
        return out;
      }
      continue;
    }
    if (errno == ECONNRESET) peer_closed_ = true;
    last_error_ = errno_text("recv", errno);
    return out;
  }
  return out;
}

std::string TestClient::expect(const std::string& exact, Deadline deadline) {
  return read_exact(exact.size(), deadline);
}

ReadResult TestClient::read_until_closed(Deadline deadline) {
  ReadResult res;
  if (fd_ < 0) {
    last_error_ = "read: not connected";
    res.closed = peer_closed_;
    return res;
  }
  char buf[4096];
  for (;;) {
    const ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
    if (r > 0) {
      res.data.append(buf, static_cast<std::size_t>(r));
      continue;
    }
    if (r == 0) {
      peer_closed_ = res.closed = true;
      return res;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      const int rev = wait_fd(fd_, POLLIN, deadline);
      if (rev == 0) {
        res.timed_out = true;
        last_error_ = "read: timed out waiting for the server to close the connection";
        return res;
      }
      if (rev < 0) {
        last_error_ = errno_text("poll", errno);
        return res;
      }
      continue;
    }
    // ECONNRESET and the like: the connection is gone.
    last_error_ = errno_text("recv", errno);
    peer_closed_ = res.closed = true;
    return res;
  }
}

std::string TestClient::read_some(std::size_t max, Deadline deadline) {
  std::string out;
  if (fd_ < 0) {
    last_error_ = "read: not connected";
    return out;
  }
  out.resize(max);
  for (;;) {
    const ssize_t r = ::recv(fd_, out.data(), max, 0);
    if (r > 0) {
      out.resize(static_cast<std::size_t>(r));
      return out;
    }
    out.clear();
    if (r == 0) {
      peer_closed_ = true;
      last_error_ = "read: connection closed by the server";
      return out;
    }
    if (errno == EINTR) {
      out.resize(max);
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      const int rev = wait_fd(fd_, POLLIN, deadline);
      if (rev == 0) {
        last_error_ = "read: timed out";
        return out;
      }
      if (rev < 0) {
        last_error_ = errno_text("poll", errno);
        return out;
      }
      out.resize(max);
      continue;
    }
    // ECONNRESET and the like: the connection is gone.
    peer_closed_ = true;
    last_error_ = errno_text("recv", errno);
    return out;
  }
}

void TestClient::set_linger_zero_and_close() {
  if (fd_ < 0) return;
  linger lg{};
  lg.l_onoff = 1;
  lg.l_linger = 0;
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ::close(fd_);
  fd_ = -1;
}

bool TestClient::shutdown_write() {
  if (fd_ < 0) return false;
  if (::shutdown(fd_, SHUT_WR) != 0) {
    last_error_ = errno_text("shutdown", errno);
    return false;
  }
  return true;
}

void TestClient::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace flowd::test
