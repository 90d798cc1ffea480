// Bytes queued for one socket, in order: the single writer of a listener connection or of a
// tcp:Client gathers the first few into one write and drops what the socket took.
#pragma once
#include <utility>

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <deque>
#include <string_view>
#include <vector>

#include "runtime/value.hpp"

namespace flowd {

class OutputQueue {
 public:
  // Buffers gathered into one writev.
  static constexpr std::size_t kMaxGather = 16;

  bool empty() const { return items_.empty(); }
  // Bytes queued and not yet sent.
  std::size_t bytes() const { return bytes_; }

  void push(Value bytes) {
    bytes_ += bytes.str().size();
    items_.push_back(std::move(bytes));
  }

  // The first kMaxGather buffers, the first one without what was already sent of it.
  void gather(std::vector<boost::asio::const_buffer>& bufs) const {
    bufs.clear();
    std::size_t skip = offset_;
    for (const Value& v : items_) {
      if (bufs.size() == kMaxGather) break;
      std::string_view s = v.str();
      bufs.emplace_back(s.data() + skip, s.size() - skip);
      skip = 0;
    }
  }

  // The socket took n bytes from the front.
  void consume(std::size_t n) {
    bytes_ -= n;
    while (n > 0) {
      std::size_t left = items_.front().str().size() - offset_;
      if (n < left) {
        offset_ += n;
        return;
      }
      n -= left;
      offset_ = 0;
      items_.pop_front();
    }
  }

  void clear() {
    items_.clear();
    offset_ = 0;
    bytes_ = 0;
  }

 private:
  std::deque<Value> items_;
  std::size_t offset_ = 0;  // bytes of the first item already sent
  std::size_t bytes_ = 0;
};

}  // namespace flowd
