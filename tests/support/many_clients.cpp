#include "support/many_clients.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace flowd::test {

long raise_fd_limit_to_hard() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (rl.rlim_cur != rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY ? -1 : static_cast<long>(rl.rlim_cur);
}

std::optional<long> vm_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return std::nullopt;
}

std::optional<double> cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 1));
  std::vector<std::string> f;
  for (std::string s; fields >> s;) f.push_back(s);
  // After the command: field 3 (state) is f[0]; utime is field 14, stime field 15.
  if (f.size() < 13) return std::nullopt;
  const double ticks = std::strtod(f[11].c_str(), nullptr) + std::strtod(f[12].c_str(), nullptr);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::optional<std::size_t> open_fd_count(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  std::size_t n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

ManyClients::ManyClients(int port) : port_(port) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
}

ManyClients::~ManyClients() {
  for (auto& c : conns_) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
  }
  ::close(epfd_);
}

std::size_t ManyClients::start_connect(int rcvbuf) {
  const std::size_t i = conns_.size();
  conns_.emplace_back();
  Conn& c = conns_.back();
  c.started = Clock::now();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    c.failed = true;
    c.err = errno;
    c.ended_at = Clock::now();
    return i;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c.fd = fd;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    c.failed = true;
    c.err = errno;
    c.ended_at = Clock::now();
    ::close(fd);
    c.fd = -1;
    return i;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = i;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    c.failed = true;
    c.err = errno;
    c.ended_at = Clock::now();
    ::close(fd);
    c.fd = -1;
  }
  return i;
}

void ManyClients::set_interest(std::size_t i, unsigned events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = i;
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, conns_[i].fd, &ev);
}

void ManyClients::drop_fd(std::size_t i) {
  Conn& c = conns_[i];
  if (c.fd < 0) return;
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
}

int ManyClients::pump(Deadline deadline) {
  epoll_event events[1024];
  for (;;) {
    const int n = ::epoll_wait(epfd_, events, 1024, poll_timeout_ms(deadline));
    if (n < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    for (int k = 0; k < n; ++k) handle(static_cast<std::size_t>(events[k].data.u64), events[k].events);
    return n;
  }
}

bool ManyClients::pump_until(const std::function<bool()>& pred, Deadline deadline) {
  for (;;) {
    if (pred()) return true;
    const auto now = Clock::now();
    if (now >= deadline) return pred();
    // In slices, so a predicate on something else than these sockets (a log line) is seen soon.
    pump(std::min(deadline, now + std::chrono::milliseconds(10)));
  }
}

void ManyClients::handle(std::size_t i, unsigned events) {
  Conn& c = conns_[i];
  if (c.fd < 0) return;  // closed earlier in this batch
  if (!c.connected) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP)) != 0) {
      c.failed = true;
      c.err = err != 0 ? err : ECONNREFUSED;
      c.ended_at = Clock::now();
      drop_fd(i);
      if (on_event) on_event(i, Event::Ended);
      return;
    }
    c.connected = true;
    c.connected_at = Clock::now();
    set_interest(i, c.reading ? (EPOLLIN | EPOLLRDHUP) : 0u);
    if (on_event) on_event(i, Event::Connected);
    return;
  }
  if (c.reading) read_ready(i);
}

void ManyClients::read_ready(std::size_t i) {
  char buf[65536];
  for (int rounds = 0; rounds < 64; ++rounds) {
    Conn& c = conns_[i];
    if (c.fd < 0) return;
    const ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
    if (r > 0) {
      c.in.append(buf, static_cast<std::size_t>(r));
      if (on_event) on_event(i, Event::Data);
      continue;
    }
    if (r == 0) {
      end(i, true, 0);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    end(i, false, errno);
    return;
  }
}

void ManyClients::end(std::size_t i, bool eof, int err) {
  Conn& c = conns_[i];
  if (eof) c.eof = true;
  else c.reset = true;
  c.err = err;
  c.ended_at = Clock::now();
  drop_fd(i);
  if (on_event) on_event(i, Event::Ended);
}

bool ManyClients::send(std::size_t i, std::string_view data, Deadline deadline) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    Conn& c = conns_[i];
    if (c.fd < 0) return false;
    const ssize_t n = ::send(c.fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{c.fd, POLLOUT, 0};
      const int r = ::poll(&p, 1, poll_timeout_ms(deadline));
      if (r == 0 && Clock::now() >= deadline) return false;
      continue;
    }
    c.err = errno;
    return false;
  }
  return true;
}

bool ManyClients::await_text(std::size_t i, std::string_view text, Deadline deadline) {
  std::size_t found = std::string::npos;
  const bool ok = pump_until(
      [&] {
        const Conn& c = conns_[i];
        found = c.in.find(text, c.cursor);
        return found != std::string::npos || c.fd < 0;
      },
      deadline);
  if (!ok || found == std::string::npos) {
    // The connection may have ended right after the text arrived.
    found = conns_[i].in.find(text, conns_[i].cursor);
    if (found == std::string::npos) return false;
  }
  conns_[i].cursor = found + text.size();
  return true;
}

std::optional<double> ManyClients::echo_round_trip(std::size_t i, const std::string& line, Deadline deadline) {
  const auto t0 = Clock::now();
  if (!send(i, line + "\n", deadline)) return std::nullopt;
  if (!await_text(i, "[" + line + "]\r\n", deadline)) return std::nullopt;
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::size_t ManyClients::open_prompted(std::size_t n, std::string_view prompt, Deadline deadline,
                                       std::size_t window) {
  std::size_t started = 0;
  std::size_t prompted = 0;
  std::vector<std::size_t> pending;  // connecting or waiting for the prompt
  auto is_prompted = [&](const Conn& c) {
    return c.in.size() >= prompt.size() && std::string_view(c.in).substr(0, prompt.size()) == prompt;
  };
  while ((started < n || !pending.empty()) && Clock::now() < deadline) {
    while (started < n && pending.size() < window) {
      pending.push_back(start_connect());
      ++started;
    }
    pump(deadline);
    std::vector<std::size_t> still;
    still.reserve(pending.size());
    for (std::size_t i : pending) {
      const Conn& c = conns_[i];
      if (is_prompted(c)) ++prompted;
      else if (!c.ended()) still.push_back(i);
    }
    pending.swap(still);
  }
  return prompted;
}

void ManyClients::pause_reading(std::size_t i) {
  Conn& c = conns_[i];
  c.reading = false;
  if (c.fd >= 0 && c.connected) set_interest(i, 0);
}

void ManyClients::resume_reading(std::size_t i) {
  Conn& c = conns_[i];
  c.reading = true;
  if (c.fd >= 0 && c.connected) set_interest(i, EPOLLIN | EPOLLRDHUP);
}

bool ManyClients::shutdown_write(std::size_t i) {
  return conns_[i].fd >= 0 && ::shutdown(conns_[i].fd, SHUT_WR) == 0;
}

void ManyClients::close(std::size_t i) {
  Conn& c = conns_[i];
  if (c.fd < 0) return;
  c.closed_by_us = true;
  drop_fd(i);
}

void ManyClients::reset(std::size_t i) {
  Conn& c = conns_[i];
  if (c.fd < 0) return;
  linger lg{};
  lg.l_onoff = 1;
  lg.l_linger = 0;
  ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  c.closed_by_us = true;
  drop_fd(i);
}

void ManyClients::close_all() {
  for (std::size_t i = 0; i < conns_.size(); ++i) close(i);
}

void ManyClients::reset_all() {
  for (std::size_t i = 0; i < conns_.size(); ++i) reset(i);
}

std::size_t ManyClients::count(const std::function<bool(const Conn&)>& pred) const {
  std::size_t n = 0;
  for (const auto& c : conns_)
    if (pred(c)) ++n;
  return n;
}

std::size_t ManyClients::count_prompted(std::string_view prompt) const {
  return count([&](const Conn& c) {
    return c.in.size() >= prompt.size() && std::string_view(c.in).substr(0, prompt.size()) == prompt;
  });
}

std::size_t ManyClients::count_open() const {
  return count([](const Conn& c) { return c.fd >= 0 && !c.ended(); });
}

}  // namespace flowd::test
