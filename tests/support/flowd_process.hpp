// Black-box driver for the real flowd binary: fork/exec it with stdout+stderr captured through one
// pipe (read by a background thread into a mutex-protected buffer), wait for log lines with
// deadlines, signal it, and collect its exit status. No sleeps: every wait is a condition-variable
// wait with a deadline.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/deadline.hpp"

namespace flowd::test {

// Path of the flowd binary under test: $FLOWD_BINARY if set in the environment, else the
// FLOWD_BINARY compile definition.
std::string flowd_binary();

class FlowdProcess {
 public:
  FlowdProcess() = default;
  ~FlowdProcess();  // SIGKILLs the process if it is still running, then reaps it
  FlowdProcess(const FlowdProcess&) = delete;
  FlowdProcess& operator=(const FlowdProcess&) = delete;

  // `flowd run FLOW extra...`. Throws std::runtime_error if the pipe/fork fails (an exec failure is
  // reported as exit code 127 with a message in log()).
  void start(const std::string& flow, const std::vector<std::string>& extra_args = {});
  // `flowd args...` (e.g. {"check", path}).
  void start_command(const std::vector<std::string>& args);
  // `/bin/sh -c 'PREFIX && exec flowd run FLOW extra...'`: the shell sets up the process (e.g.
  // `ulimit -n 256`) and then becomes flowd, so pid() is flowd's. The flowd arguments are passed as
  // the shell's positional parameters, never re-parsed by it.
  void start_with_shell_prefix(const std::string& shell_prefix, const std::string& flow,
                               const std::vector<std::string>& extra_args = {});

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }

  // Waits until the captured output contains `substring` (true), or the deadline passes / the
  // output ends without it (false).
  bool wait_for_log(const std::string& substring, Deadline deadline = deadline_in(kDefaultTimeout));
  // Same with a regex searched in each complete output line (a line is never matched half-written).
  bool wait_for_log(const std::regex& line_regex, Deadline deadline = deadline_in(kDefaultTimeout));
  // Like wait_for_log(regex) but returns the capture groups ([0] = whole match) of the first match.
  std::optional<std::vector<std::string>> wait_for_match(const std::regex& line_regex,
                                                         Deadline deadline = deadline_in(kDefaultTimeout));

  // Parses `listening on 127.0.0.1:(\d+)` from the log (waits up to 10 s). Returns 0 if not found.
  int port();

  // Sends `sig` if the process has not been reaped yet. Returns whether kill() succeeded.
  bool send_signal(int sig);
  // Waits for the process to exit. Returns the exit code (128+N if it was killed by signal N), or
  // nullopt if it is still running at the deadline.
  std::optional<int> wait_exit(Deadline deadline = deadline_in(kDefaultTimeout));
  bool running() const;
  // The signal that killed the process, if it died from one.
  std::optional<int> term_signal() const;
  // Waits until the output pipe reaches EOF (all writers, i.e. the process, gone).
  bool wait_output_closed(Deadline deadline = deadline_in(kDefaultTimeout));

  std::string log() const;
  // The last `lines` lines of the log, framed for assertion messages.
  std::string log_tail(std::size_t lines = 40) const;
  std::size_t count_occurrences(const std::string& substring) const;
  // Waits until `substring` occurs at least `n` times in the output (true), or the deadline passes /
  // the output ends with fewer (false).
  bool wait_for_count(const std::string& substring, std::size_t n, Deadline deadline = deadline_in(kDefaultTimeout));

 private:
  void start_argv(std::vector<std::string> argv);
  void reader_loop(int fd, int stop_fd);
  void waiter_loop();

  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  bool started_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;
  bool output_closed_ = false;
  bool exited_ = false;
  int wait_status_ = 0;
  int port_ = 0;

  int stop_pipe_[2] = {-1, -1};  // written by the destructor to stop the reader if output never ends
  std::thread reader_;
  std::thread waiter_;
};

struct CommandResult {
  int exit_code = -1;      // exit code, or 128+N when killed by signal N, or -1 on timeout
  bool signaled = false;   // died from a signal
  bool timed_out = false;  // had to be killed at the deadline
  std::string output;      // stdout and stderr, interleaved as written
};

// Runs `flowd args...` to completion (killed at the deadline) and returns its status and output.
CommandResult run_command(const std::vector<std::string>& args,
                          Deadline deadline = deadline_in(std::chrono::milliseconds(15000)));

// Number of lines in `text` (a trailing newline does not start a new line; empty lines count).
std::size_t count_lines(const std::string& text);

}  // namespace flowd::test
