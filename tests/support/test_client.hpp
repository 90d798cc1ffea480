// A small TCP client for the black-box tests: non-blocking socket to 127.0.0.1:port (TCP_NODELAY,
// close-on-exec), where every operation is bounded by a deadline through poll(). Nothing sleeps.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "support/deadline.hpp"

namespace flowd::test {

// "what: strerror(err)".
std::string errno_text(const char* what, int err);
// Polls fd for `events` until the deadline. Returns revents (0 on timeout, -1 on poll error).
int wait_fd(int fd, short events, Deadline deadline);
// A non-blocking TCP connection to 127.0.0.1:port (TCP_NODELAY), or -1 with `error` set.
int connect_loopback(int port, Deadline deadline, std::string& error);

struct ReadResult {
  std::string data;        // everything read
  bool closed = false;     // the peer closed (EOF) or reset the connection
  bool timed_out = false;  // the deadline passed first
};

class TestClient {
 public:
  TestClient() = default;
  // Connects at once; check connected() / last_error().
  explicit TestClient(int port, Deadline deadline = deadline_in(kDefaultTimeout));
  ~TestClient();
  TestClient(TestClient&& other) noexcept;
  TestClient& operator=(TestClient&& other) noexcept;
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connect(int port, Deadline deadline = deadline_in(kDefaultTimeout));
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Sends all of `data` (one send() call for small data, so one TCP segment on loopback).
  bool send(std::string_view data, Deadline deadline = deadline_in(kDefaultTimeout));
  // Reads exactly n bytes unless the deadline passes or the peer closes first; returns what was read.
  std::string read_exact(std::size_t n, Deadline deadline = deadline_in(kDefaultTimeout));
  // Reads exactly exact.size() bytes and returns them (the caller compares with `exact`).
  std::string expect(const std::string& exact, Deadline deadline = deadline_in(kDefaultTimeout));
  // Reads until EOF/reset or the deadline.
  ReadResult read_until_closed(Deadline deadline = deadline_in(kDefaultTimeout));
  // Waits until some bytes can be read (or the deadline passes, or the peer closes) and returns what
  // one recv() of at most `max` bytes gives: empty on timeout, EOF or reset (see peer_closed() and
  // last_error()). With a deadline in the past it only takes what is already there.
  std::string read_some(std::size_t max = 65536, Deadline deadline = deadline_in(kDefaultTimeout));

  // SO_LINGER {1, 0} then close(): the kernel sends an RST instead of a FIN.
  void set_linger_zero_and_close();
  bool shutdown_write();
  void close();

  // Why the last operation fell short (timeout, EOF, errno text), for assertion messages.
  const std::string& last_error() const { return last_error_; }
  bool peer_closed() const { return peer_closed_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  bool peer_closed_ = false;
  std::string last_error_;
};

}  // namespace flowd::test
