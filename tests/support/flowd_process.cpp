#include "support/flowd_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace flowd::test {

namespace {

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

// Async-signal-safe: writes "prefix<errno>\n" to fd 2 (used in the child between fork and exec).
void child_report_exec_failure(const char* binary, int err) {
  static const char prefix[] = "flowd test harness: exec failed for ";
  (void)!::write(2, prefix, sizeof prefix - 1);
  (void)!::write(2, binary, std::strlen(binary));
  char digits[32];
  int n = 0;
  char rev[16];
  int k = 0;
  do {
    rev[k++] = static_cast<char>('0' + err % 10);
    err /= 10;
  } while (err > 0 && k < 15);
  digits[n++] = ':';
  digits[n++] = ' ';
  digits[n++] = 'e';
  digits[n++] = 'r';
  digits[n++] = 'r';
  digits[n++] = 'n';
  digits[n++] = 'o';
  digits[n++] = ' ';
  while (k > 0) digits[n++] = rev[--k];
  digits[n++] = '\n';
  (void)!::write(2, digits, static_cast<std::size_t>(n));
}

}  // namespace

std::string flowd_binary() {
  if (const char* env = std::getenv("FLOWD_BINARY"); env != nullptr && *env != '\0') return env;
#ifdef FLOWD_BINARY
  return FLOWD_BINARY;
#else
  return "flowd";
#endif
}

std::size_t count_lines(const std::string& text) {
  if (text.empty()) return 0;
  std::size_t n = 0;
  for (char c : text)
    if (c == '\n') ++n;
  if (text.back() != '\n') ++n;
  return n;
}

FlowdProcess::~FlowdProcess() {
  if (!started_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!exited_) ::kill(pid_, SIGKILL);
  }
  if (waiter_.joinable()) waiter_.join();
  // The child is gone, so the pipe normally reaches EOF at once; if something else still holds its
  // write end, stop the reader anyway.
  if (!wait_output_closed(deadline_in(std::chrono::milliseconds(2000)))) {
    const char byte = 'x';
    (void)!::write(stop_pipe_[1], &byte, 1);
  }
  if (reader_.joinable()) reader_.join();
  close_fd(stop_pipe_[0]);
  close_fd(stop_pipe_[1]);
}

void FlowdProcess::start(const std::string& flow, const std::vector<std::string>& extra_args) {
  std::vector<std::string> args{"run", flow};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  start_command(args);
}

void FlowdProcess::start_command(const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.push_back(flowd_binary());
  argv.insert(argv.end(), args.begin(), args.end());
  start_argv(std::move(argv));
}

void FlowdProcess::start_with_shell_prefix(const std::string& shell_prefix, const std::string& flow,
                                           const std::vector<std::string>& extra_args) {
  // sh -c SCRIPT $0 $1...: "$0" is the binary and "$@" its arguments.
  std::vector<std::string> argv{"/bin/sh", "-c", shell_prefix + " && exec \"$0\" \"$@\"", flowd_binary(), "run",
                                flow};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  start_argv(std::move(argv));
}

void FlowdProcess::start_argv(std::vector<std::string> argv) {
  if (started_) throw std::logic_error("FlowdProcess::start called twice");
  argv_ = std::move(argv);

  // Everything the child needs is prepared before fork(): the child only makes async-signal-safe
  // calls (the test process is multi-threaded).
  std::vector<char*> cargv;
  for (auto& a : argv_) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw sys_error("pipe2");
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw sys_error("pipe2");
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) throw sys_error("open /dev/null");
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    ::close(devnull);
    throw sys_error("fork");
  }
  if (pid == 0) {
    // Child: default signal dispositions and an empty mask (they survive exec otherwise).
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT}) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Die with the test runner.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    if (::dup2(devnull, 0) < 0 || ::dup2(out_pipe[1], 1) < 0 || ::dup2(out_pipe[1], 2) < 0) ::_exit(125);
    ::execv(cargv[0], cargv.data());
    child_report_exec_failure(cargv[0], errno);
    ::_exit(127);
  }

  ::close(out_pipe[1]);
  ::close(devnull);
  pid_ = pid;
  started_ = true;
  const int read_fd = out_pipe[0];
  const int stop_fd = stop_pipe_[0];
  reader_ = std::thread([this, read_fd, stop_fd] { reader_loop(read_fd, stop_fd); });
  waiter_ = std::thread([this] { waiter_loop(); });
}

void FlowdProcess::reader_loop(int fd, int stop_fd) {
  char buf[8192];
  for (;;) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    const int r = ::poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents == 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      output_.append(buf, static_cast<std::size_t>(n));
    }
    cv_.notify_all();
  }
  ::close(fd);
  {
    std::lock_guard<std::mutex> lock(mu_);
    output_closed_ = true;
  }
  cv_.notify_all();
}

void FlowdProcess::waiter_loop() {
  // Wait without reaping, so the pid cannot be reused while send_signal() may still target it;
  // then reap under the mutex and publish the status.
  siginfo_t info;
  for (;;) {
    std::memset(&info, 0, sizeof info);
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) == 0) break;
    if (errno != EINTR) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    wait_status_ = status;
    exited_ = true;
  }
  cv_.notify_all();
}

bool FlowdProcess::wait_for_log(const std::string& substring, Deadline deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_until(lock, deadline, [&] {
    return output_.find(substring) != std::string::npos || output_closed_;
  }) && output_.find(substring) != std::string::npos;
}

bool FlowdProcess::wait_for_log(const std::regex& line_regex, Deadline deadline) {
  return wait_for_match(line_regex, deadline).has_value();
}

std::optional<std::vector<std::string>> FlowdProcess::wait_for_match(const std::regex& line_regex,
                                                                     Deadline deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  std::size_t scanned = 0;  // complete lines before this offset have been tried
  std::optional<std::vector<std::string>> found;
  auto scan = [&] {
    for (;;) {
      std::size_t eol = output_.find('\n', scanned);
      const bool partial = eol == std::string::npos;
      if (partial && !output_closed_) return false;  // never match a half-written line
      if (partial) {
        if (scanned >= output_.size()) return false;
        eol = output_.size();
      }
      const std::string line = output_.substr(scanned, eol - scanned);
      scanned = partial ? eol : eol + 1;
      std::smatch m;
      if (std::regex_search(line, m, line_regex)) {
        std::vector<std::string> groups;
        for (const auto& g : m) groups.push_back(g.str());
        found = std::move(groups);
        return true;
      }
    }
  };
  cv_.wait_until(lock, deadline, [&] { return scan() || output_closed_; });
  if (!found) scan();
  return found;
}

int FlowdProcess::port() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (port_ != 0) return port_;
  }
  static const std::regex re(R"(listening on 127\.0\.0\.1:(\d+))");
  const auto m = wait_for_match(re, deadline_in(std::chrono::milliseconds(10000)));
  if (!m) return 0;
  const long p = std::strtol((*m)[1].c_str(), nullptr, 10);
  if (p <= 0 || p > 65535) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  port_ = static_cast<int>(p);
  return port_;
}

bool FlowdProcess::send_signal(int sig) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!started_ || exited_) return false;
  return ::kill(pid_, sig) == 0;
}

std::optional<int> FlowdProcess::wait_exit(Deadline deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!started_) return std::nullopt;
  if (!cv_.wait_until(lock, deadline, [&] { return exited_; })) return std::nullopt;
  if (WIFEXITED(wait_status_)) return WEXITSTATUS(wait_status_);
  if (WIFSIGNALED(wait_status_)) return 128 + WTERMSIG(wait_status_);
  return -1;
}

bool FlowdProcess::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_ && !exited_;
}

std::optional<int> FlowdProcess::term_signal() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (exited_ && WIFSIGNALED(wait_status_)) return WTERMSIG(wait_status_);
  return std::nullopt;
}

bool FlowdProcess::wait_output_closed(Deadline deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!started_) return true;
  return cv_.wait_until(lock, deadline, [&] { return output_closed_; });
}

std::string FlowdProcess::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return output_;
}

std::string FlowdProcess::log_tail(std::size_t lines) const {
  std::string text = log();
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  std::size_t taken = 0;
  while (pos > 0 && taken < lines) {
    const std::size_t nl = text.rfind('\n', pos - 1);
    ++taken;
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  if (pos > 0) ++pos;  // skip the newline before the first kept line
  std::ostringstream os;
  os << "\n----- flowd output (last " << lines << " lines";
  if (!argv_.empty()) {
    os << "; argv:";
    for (const auto& a : argv_) os << ' ' << a;
  }
  os << ") -----\n" << text.substr(pos);
  if (!text.empty() && text.back() != '\n') os << '\n';
  os << "----- end of flowd output -----\n";
  return os.str();
}

std::size_t FlowdProcess::count_occurrences(const std::string& substring) const {
  if (substring.empty()) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (std::size_t pos = output_.find(substring); pos != std::string::npos;
       pos = output_.find(substring, pos + substring.size()))
    ++n;
  return n;
}

bool FlowdProcess::wait_for_count(const std::string& substring, std::size_t n, Deadline deadline) {
  if (substring.empty()) return n == 0;
  std::unique_lock<std::mutex> lock(mu_);
  std::size_t counted = 0;
  std::size_t pos = 0;  // occurrences before this offset are counted
  auto enough = [&] {
    for (std::size_t at = output_.find(substring, pos); at != std::string::npos;
         at = output_.find(substring, pos)) {
      ++counted;
      pos = at + substring.size();
    }
    return counted >= n;
  };
  cv_.wait_until(lock, deadline, [&] { return enough() || output_closed_; });
  return enough();
}

CommandResult run_command(const std::vector<std::string>& args, Deadline deadline) {
  CommandResult result;
  FlowdProcess p;
  p.start_command(args);
  auto code = p.wait_exit(deadline);
  if (!code) {
    result.timed_out = true;
    p.send_signal(SIGKILL);
    code = p.wait_exit(deadline_in(std::chrono::milliseconds(5000)));
  }
  p.wait_output_closed(deadline_in(std::chrono::milliseconds(2000)));
  result.exit_code = result.timed_out ? -1 : code.value_or(-1);
  result.signaled = p.term_signal().has_value() && !result.timed_out;
  result.output = p.log();
  return result;
}

}  // namespace flowd::test
