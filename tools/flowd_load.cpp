// flowd-load: a closed-loop load generator for any line or prompt protocol, to measure your own
// flows. Each client connects, reads the greeting, sends --login, then --messages times --message,
// each time waiting for the reply: a reply is complete when what arrived ends with --until.
//
//   flowd-load --port 3000 --clients 10 --messages 5000 --login 'user{i}\r\n' --message 'hi\r\n' --until ':'
//
// {i} is the client's number; trailing spaces and line ends of a reply are ignored when matching
// --until. Prints msgs/s and latency percentiles (one JSON line).
#include <utility>

#include <boost/asio.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  int clients = 10;
  int messages = 1000;
  std::string login = "user{i}\r\n";
  std::string message = "hello {i}\r\n";
  std::string until = ":";
  double duration_limit = 120;
};

std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[++i];
      out += c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string with_index(std::string s, int i) {
  for (std::size_t at; (at = s.find("{i}")) != std::string::npos;) s.replace(at, 3, std::to_string(i));
  return s;
}

struct Stats {
  std::vector<double> latencies_us;
  int errors = 0;
  int done_clients = 0;
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(asio::io_context& io, const Options& o, int index, Stats& stats)
      : socket_(io), o_(o), index_(index), stats_(stats), login_(with_index(o.login, index)),
        message_(with_index(o.message, index)) {}

  void start(const tcp::endpoint& ep) {
    socket_.async_connect(ep, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return self->fail();
      self->socket_.set_option(tcp::no_delay(true));
      self->read_reply([self] { self->send(self->login_, false); });
    });
  }

 private:
  void send(const std::string& text, bool timed) {
    timed_ = timed;
    sent_at_ = Clock::now();
    asio::async_write(socket_, asio::buffer(text), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      if (ec) return self->fail();
      self->read_reply([self] { self->on_reply(); });
    });
  }

  void on_reply() {
    if (timed_)
      stats_.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent_at_).count());
    if (sent_ == o_.messages) {
      ++stats_.done_clients;
      boost::system::error_code ec;
      socket_.close(ec);
      return;
    }
    ++sent_;
    send(message_, true);
  }

  template <class Then>
  void read_reply(Then then) {
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this(), then](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return self->fail();
      self->pending_.append(self->buf_, n);
      const std::string& u = self->o_.until;
      std::string_view got(self->pending_);
      while (!got.empty() && (got.back() == ' ' || got.back() == '\r' || got.back() == '\n')) got.remove_suffix(1);
      if (got.size() >= u.size() && got.substr(got.size() - u.size()) == u) {
        self->pending_.clear();
        then();
      } else {
        self->read_reply(then);
      }
    });
  }

  void fail() { ++stats_.errors; }

  tcp::socket socket_;
  const Options& o_;
  int index_;
  Stats& stats_;
  std::string login_, message_, pending_;
  char buf_[4096];
  int sent_ = 0;
  bool timed_ = false;
  Clock::time_point sent_at_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--host") o.host = v;
    else if (k == "--port") o.port = static_cast<unsigned short>(std::atoi(v.c_str()));
    else if (k == "--clients") o.clients = std::atoi(v.c_str());
    else if (k == "--messages") o.messages = std::atoi(v.c_str());
    else if (k == "--login") o.login = unescape(v);
    else if (k == "--message") o.message = unescape(v);
    else if (k == "--until") o.until = unescape(v);
    else if (k == "--duration-limit") o.duration_limit = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "usage: flowd-load [--host H] [--port P] [--clients N] [--messages M] [--login S] "
                           "[--message S] [--until S] [--duration-limit SECONDS]\n");
      return 2;
    }
  }
  asio::io_context io;
  tcp::endpoint ep(asio::ip::make_address(o.host), o.port);
  Stats stats;
  auto t0 = Clock::now();
  for (int i = 0; i < o.clients; ++i) std::make_shared<Client>(io, o, i, stats)->start(ep);
  io.run_for(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_limit + 1)));
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  auto& l = stats.latencies_us;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) { return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<std::size_t>(p * l.size()))]; };
  std::printf("{\"clients\":%d,\"messages\":%zu,\"errors\":%d,\"seconds\":%.3f,\"msgs_per_s\":%.1f,"
              "\"p50_us\":%.0f,\"p99_us\":%.0f,\"max_us\":%.0f}\n",
              o.clients, l.size(), stats.errors, seconds, l.size() / seconds, pct(0.5), pct(0.99), l.empty() ? 0.0 : l.back());
  return stats.errors == 0 && stats.done_clients == o.clients ? 0 : 1;
}
