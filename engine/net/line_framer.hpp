// Line framing: turns a byte stream into lines without their "\n" or "\r\n", however the bytes were
// split or joined by TCP. Holds only the unfinished line, and refuses one longer than the limit
// without buffering it.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace flowd {

// Default limit of a line (Netty's telnet and secure-chat examples use 8192).
inline constexpr std::size_t kDefaultMaxLineLength = 8 * 1024;

class LineFramer {
 public:
  explicit LineFramer(std::size_t max_line = kDefaultMaxLineLength) : max_(max_line) {}

  enum class Result { Ok, TooLong, Stopped };

  // Calls on_line(std::string_view) for each complete line, in order; on_line returns false to stop
  // (the rest of the data is not consumed: unconsumed() tells how many bytes were left). TooLong when a line exceeds the limit: the framer then refuses
  // everything after it.
  template <class OnLine>
  Result feed(std::string_view data, OnLine&& on_line) {
    if (too_long_) return Result::TooLong;
    while (!data.empty()) {
      std::size_t nl = data.find('\n');
      if (nl == std::string_view::npos) {
        // Longer than the limit already, unless the one extra byte is the '\r' of a "\r\n".
        std::size_t size = partial_.size() + data.size();
        if (size > max_ && !(size == max_ + 1 && data.back() == '\r')) return refuse();
        partial_.append(data);
        return Result::Ok;
      }
      std::string_view piece = data.substr(0, nl);
      data.remove_prefix(nl + 1);
      std::string_view line;
      if (partial_.empty()) {
        line = piece;  // the common case: the whole line is in this chunk, no copy
      } else {
        partial_.append(piece);
        line = partial_;
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() > max_) return refuse();
      bool go_on = on_line(line);
      release();
      if (!go_on) {
        unconsumed_ = data.size();
        return Result::Stopped;
      }
    }
    return Result::Ok;
  }

  std::size_t buffered() const { return partial_.size(); }
  // After Stopped: the bytes at the end of the fed data that were not looked at.
  std::size_t unconsumed() const { return unconsumed_; }
  std::size_t max_line() const { return max_; }

 private:
  Result refuse() {
    too_long_ = true;
    partial_.clear();
    partial_.shrink_to_fit();
    return Result::TooLong;
  }
  void release() {
    partial_.clear();
    // An idle connection keeps no large buffer after a long line.
    if (partial_.capacity() > 1024) partial_.shrink_to_fit();
  }

  std::size_t max_;
  std::string partial_;
  std::size_t unconsumed_ = 0;
  bool too_long_ = false;
};

}  // namespace flowd
