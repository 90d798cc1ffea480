// A line-oriented client for the black-box tests of line protocols: every line the server sends
// ends with "\r\n". Built on TestClient; every read is bounded by a deadline, nothing sleeps.
//
// Lines are taken out of the byte stream as they complete and queued, so many clients can be
// served by one poll() loop (poll_clients) as well as by blocking-with-deadline reads (read_line).
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/test_client.hpp"

namespace flowd::test {

// Printable rendering of raw bytes for assertion messages: "a\r\n\xff".
inline std::string printable(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    switch (c) {
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

class LineClient {
 public:
  LineClient() = default;
  explicit LineClient(int port, Deadline deadline = deadline_in(kDefaultTimeout)) { connect(port, deadline); }

  bool connect(int port, Deadline deadline = deadline_in(kDefaultTimeout)) {
    lines_.clear();
    partial_.clear();
    protocol_error_.clear();
    return client_.connect(port, deadline);
  }
  bool connected() const { return client_.connected(); }
  int fd() const { return client_.fd(); }
  TestClient& raw() { return client_; }

  // Sends text + "\r\n".
  bool send_line(std::string_view text, Deadline deadline = deadline_in(kDefaultTimeout)) {
    std::string wire(text);
    wire += "\r\n";
    return client_.send(wire, deadline);
  }
  bool send(std::string_view bytes, Deadline deadline = deadline_in(kDefaultTimeout)) {
    return client_.send(bytes, deadline);
  }

  // Reads whatever can be read without waiting into the line queue. Returns false once the peer has
  // closed (or reset) the connection.
  bool pump() {
    if (!client_.connected() || client_.peer_closed()) return false;
    for (;;) {
      const std::string chunk = client_.read_some(65536, Clock::now() - std::chrono::seconds(1));
      if (chunk.empty()) return !client_.peer_closed();
      absorb(chunk);
    }
  }

  // The next complete line (without its "\r\n"), or nullopt when the deadline passes or the
  // connection closes first (see why()).
  std::optional<std::string> read_line(Deadline deadline = deadline_in(kDefaultTimeout)) {
    for (;;) {
      if (!lines_.empty()) {
        std::string line = std::move(lines_.front());
        lines_.pop_front();
        return line;
      }
      if (!client_.connected() || client_.peer_closed()) return std::nullopt;
      const std::string chunk = client_.read_some(65536, deadline);
      if (chunk.empty()) {
        if (client_.peer_closed()) continue;  // take lines completed before the close, then stop
        return std::nullopt;                  // timed out
      }
      absorb(chunk);
    }
  }

  // Reads the next line and compares it with `exact`.
  ::testing::AssertionResult expect_line(const std::string& exact, Deadline deadline = deadline_in(kDefaultTimeout)) {
    const auto line = read_line(deadline);
    if (!line)
      return ::testing::AssertionFailure() << "expected the line " << printable(exact) << " but got none ("
                                           << why() << ")";
    if (*line != exact)
      return ::testing::AssertionFailure() << "expected the line " << printable(exact) << " but got "
                                           << printable(*line);
    return ::testing::AssertionSuccess();
  }

  // Succeeds if no byte at all arrives within `window` (a read with a deadline that must time out).
  ::testing::AssertionResult expect_no_line_within(std::chrono::milliseconds window) {
    const Deadline deadline = deadline_in(window);
    if (!lines_.empty())
      return ::testing::AssertionFailure() << "expected no line within " << window.count() << " ms but "
                                           << printable(lines_.front()) << " is waiting";
    while (client_.connected() && !client_.peer_closed()) {
      const std::string chunk = client_.read_some(65536, deadline);
      if (chunk.empty()) {
        if (client_.peer_closed()) break;
        return ::testing::AssertionSuccess();  // the deadline passed in silence
      }
      absorb(chunk);
      if (!lines_.empty())
        return ::testing::AssertionFailure() << "expected no line within " << window.count() << " ms but got "
                                             << printable(lines_.front());
    }
    return ::testing::AssertionFailure() << "expected no line within " << window.count()
                                         << " ms but the connection was closed" << pending_note();
  }

  // Reads until the server closes the connection. Fails if it does not within the deadline, or if
  // any line (or partial line) arrives before the close.
  ::testing::AssertionResult expect_closed(Deadline deadline = deadline_in(kDefaultTimeout)) {
    if (!lines_.empty())
      return ::testing::AssertionFailure() << "expected the connection to close but the line "
                                           << printable(lines_.front()) << " is waiting";
    const ReadResult r = client_.read_until_closed(deadline);
    if (!r.data.empty())
      return ::testing::AssertionFailure() << "expected the connection to close but read " << printable(r.data);
    if (!r.closed)
      return ::testing::AssertionFailure() << "the server did not close the connection (" << client_.last_error()
                                           << ")";
    return ::testing::AssertionSuccess();
  }

  bool closed() const { return client_.peer_closed(); }
  std::deque<std::string>& queued() { return lines_; }
  const std::string& partial() const { return partial_; }
  const std::string& protocol_error() const { return protocol_error_; }

  // Why the last read fell short, for assertion messages.
  std::string why() const {
    std::string text = client_.last_error();
    if (text.empty()) text = client_.peer_closed() ? "connection closed" : "no error";
    return text + pending_note();
  }

  void close() { client_.close(); }
  void reset() { client_.set_linger_zero_and_close(); }

 private:
  std::string pending_note() const {
    std::string note;
    if (!partial_.empty()) note += "; unterminated bytes: " + printable(partial_);
    if (!protocol_error_.empty()) note += "; " + protocol_error_;
    return note;
  }

  // Splits the stream at "\r\n". A bare "\n" also ends a line, but is recorded as a protocol error
  // and the line is marked, so a test comparing lines fails on it.
  void absorb(const std::string& chunk) {
    partial_ += chunk;
    std::size_t start = 0;
    for (;;) {
      const std::size_t nl = partial_.find('\n', start);
      if (nl == std::string::npos) break;
      std::string line = partial_.substr(start, nl - start);
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      } else {
        if (protocol_error_.empty()) protocol_error_ = "a line ended with a bare \\n: " + printable(line);
        line = "<bare LF>" + line;
      }
      lines_.push_back(std::move(line));
      start = nl + 1;
    }
    partial_.erase(0, start);
  }

  TestClient client_;
  std::deque<std::string> lines_;
  std::string partial_;
  std::string protocol_error_;
};

// One poll() over every open client until the deadline or until at least one is readable; reads
// what each readable client has into its line queue. Returns false if nothing became readable.
inline bool poll_clients(const std::vector<LineClient*>& clients, Deadline deadline) {
  std::vector<pollfd> fds;
  std::vector<LineClient*> owners;
  for (LineClient* c : clients) {
    if (c->connected() && !c->closed()) {
      fds.push_back({c->fd(), POLLIN, 0});
      owners.push_back(c);
    }
  }
  if (fds.empty()) return false;
  const int r = ::poll(fds.data(), fds.size(), poll_timeout_ms(deadline));
  if (r <= 0) return false;
  for (std::size_t i = 0; i < fds.size(); ++i)
    if (fds[i].revents != 0) owners[i]->pump();
  return true;
}

}  // namespace flowd::test
