// Many TCP clients driven by one epoll loop in the test thread, for the robustness tests: thousands
// of non-blocking loopback connections without a thread each. Every wait is bounded by a deadline;
// nothing sleeps.
//
// Also: raising RLIMIT_NOFILE, and reading a process's VmRSS, CPU time and open descriptors from
// /proc (the tests use them on the flowd under test).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/deadline.hpp"

namespace flowd::test {

// Raises the soft RLIMIT_NOFILE of this process to its hard limit (processes it starts inherit it).
// Returns the soft limit in force afterwards.
long raise_fd_limit_to_hard();

// Resident set size of `pid` in KiB (VmRSS in /proc/PID/status), or nullopt if it cannot be read.
std::optional<long> vm_rss_kib(pid_t pid);
// CPU time of `pid` (utime + stime from /proc/PID/stat) in seconds, or nullopt.
std::optional<double> cpu_seconds(pid_t pid);
// Number of open descriptors of `pid` (entries of /proc/PID/fd), or nullopt.
std::optional<std::size_t> open_fd_count(pid_t pid);

class ManyClients {
 public:
  struct Conn {
    int fd = -1;               // -1 once closed (by us, or after the server closed it)
    bool connected = false;    // the TCP handshake completed
    bool failed = false;       // connect() failed (see err)
    bool eof = false;          // the server closed the connection (read returned 0)
    bool reset = false;        // the connection was reset (or another read/write error, see err)
    bool closed_by_us = false; // close() / reset() was called
    bool reading = true;       // whether the loop reads it (see pause_reading)
    int err = 0;               // errno of a failure
    std::string in;            // every byte received
    std::size_t cursor = 0;    // how far await_text() has consumed `in`
    Clock::time_point started{}, connected_at{}, ended_at{};

    // The server ended the connection (EOF or reset) or it never came up.
    bool ended() const { return eof || reset || failed; }
  };

  enum class Event { Connected, Data, Ended };

  explicit ManyClients(int port);
  ~ManyClients();  // closes every connection still open
  ManyClients(const ManyClients&) = delete;
  ManyClients& operator=(const ManyClients&) = delete;

  // Starts one non-blocking connect to 127.0.0.1:port; returns its index (the Conn may already have
  // failed, e.g. out of descriptors). rcvbuf > 0 sets SO_RCVBUF first (a small window).
  std::size_t start_connect(int rcvbuf = 0);

  // Waits until at least one event or the deadline, handles what is ready. Returns the number of
  // descriptors that had events.
  int pump(Deadline deadline);
  // Pumps until pred() is true (true) or the deadline passes (pred()). pred() is checked after every
  // batch of events and at least every 10 ms.
  bool pump_until(const std::function<bool()>& pred, Deadline deadline);

  // Opens n connections, with at most `window` of them connecting or waiting for their prompt at a
  // time (so the server's accept backlog is never overrun), until each has received `prompt` at the
  // start of its input. Returns how many were prompted by the deadline.
  std::size_t open_prompted(std::size_t n, std::string_view prompt, Deadline deadline, std::size_t window = 256);

  // Sends all of `data` (waits for POLLOUT up to the deadline). False on error or timeout.
  bool send(std::size_t i, std::string_view data, Deadline deadline = deadline_in(kDefaultTimeout));
  // Pumps until conn i's unconsumed input contains `text`, then consumes up to its end.
  bool await_text(std::size_t i, std::string_view text, Deadline deadline = deadline_in(kDefaultTimeout));
  // Sends line + "\n" and waits for "[line]\r\n" (the limits.json echo). Returns the round trip in
  // milliseconds, or nullopt on failure.
  std::optional<double> echo_round_trip(std::size_t i, const std::string& line,
                                        Deadline deadline = deadline_in(kDefaultTimeout));

  void pause_reading(std::size_t i);
  void resume_reading(std::size_t i);
  bool shutdown_write(std::size_t i);
  void close(std::size_t i);  // FIN
  void reset(std::size_t i);  // SO_LINGER {1, 0} then close: RST
  void close_all();
  void reset_all();

  std::size_t size() const { return conns_.size(); }
  Conn& operator[](std::size_t i) { return conns_[i]; }
  const Conn& operator[](std::size_t i) const { return conns_[i]; }
  std::size_t count(const std::function<bool(const Conn&)>& pred) const;
  // Connections whose input starts with `prompt`.
  std::size_t count_prompted(std::string_view prompt) const;
  // Connections not closed by us and not ended by the server.
  std::size_t count_open() const;

  // Called for each event as it is handled (may call close/reset/send on any connection).
  std::function<void(std::size_t, Event)> on_event;

 private:
  void handle(std::size_t i, unsigned events);
  void read_ready(std::size_t i);
  void end(std::size_t i, bool eof, int err);
  void set_interest(std::size_t i, unsigned events);
  void drop_fd(std::size_t i);

  int port_;
  int epfd_ = -1;
  std::vector<Conn> conns_;
};

}  // namespace flowd::test
