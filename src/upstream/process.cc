#include "upstream/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "common/log.h"

extern char** environ;

namespace mcpgw::upstream {
namespace {

class SpawnerImpl;

class ProcessImpl : public Process, public std::enable_shared_from_this<ProcessImpl> {
 public:
  ProcessImpl(io::Loop& loop, pid_t pid, Callbacks cb)
      : loop_(loop), pid_(pid), cb_(std::move(cb)) {}

  void Attach(int in_fd, int out_fd, int err_fd) {
    std::weak_ptr<ProcessImpl> weak = shared_from_this();
    stdin_ = loop_.WrapPipe(in_fd, nullptr, nullptr);
    stdout_ = loop_.WrapPipe(
        out_fd,
        [weak](std::string_view data) {
          if (auto self = weak.lock(); self && self->cb_.on_stdout) self->cb_.on_stdout(data);
        },
        [weak] {
          if (auto self = weak.lock()) self->stdout_open_ = false;
        });
    stderr_ = loop_.WrapPipe(
        err_fd,
        [weak](std::string_view data) {
          if (auto self = weak.lock()) self->OnStderr(data);
        },
        [weak] {
          if (auto self = weak.lock()) self->FlushStderr();
        });
  }

  pid_t pid() const override { return pid_; }
  bool running() const override { return !exited_; }
  void Detach() override { cb_ = {}; }

  bool WriteStdin(std::string data) override {
    return !exited_ && stdin_ && stdin_->Write(std::move(data));
  }
  size_t PendingStdin() const override { return stdin_ ? stdin_->Pending() : 0; }

  void Stop(io::Millis grace, std::function<void()> done) override {
    if (exited_) {
      if (done) loop_.Post(std::move(done));
      return;
    }
    if (done) stop_waiters_.push_back(std::move(done));
    if (stopping_) return;
    stopping_ = true;
    if (stdin_) stdin_->Close();  // a well-behaved MCP server exits at EOF on stdin
    std::weak_ptr<ProcessImpl> weak = shared_from_this();
    term_timer_ = loop_.After(grace, [weak, grace] {
      auto self = weak.lock();
      if (!self || self->exited_) return;
      ::kill(-self->pid_, SIGTERM);
      self->kill_timer_ = self->loop_.After(grace, [weak] {
        auto self = weak.lock();
        if (!self || self->exited_) return;
        log::Warn("upstream ignored SIGTERM; killing its process group",
                  {{"pid", static_cast<int64_t>(self->pid_)}});
        ::kill(-self->pid_, SIGKILL);
      });
    });
  }

  // Called by the spawner after waitpid reaped the child.
  void OnReaped(int status) {
    exited_ = true;
    loop_.Cancel(term_timer_);
    loop_.Cancel(kill_timer_);
    // Anything else left in the group (grandchildren) goes too.
    ::kill(-pid_, SIGKILL);
    std::string how;
    int code = -1;
    if (WIFEXITED(status)) {
      code = WEXITSTATUS(status);
      how = "exited with code " + std::to_string(code);
    } else if (WIFSIGNALED(status)) {
      code = 128 + WTERMSIG(status);
      how = std::string("killed by signal ") + strsignal(WTERMSIG(status));
    }
    // Drain what is already in the pipes before reporting the exit.
    auto self = shared_from_this();
    loop_.Post([self, code, how] {
      self->FlushStderr();
      if (self->stdin_) self->stdin_->Close();
      if (self->cb_.on_exit) self->cb_.on_exit(code, how);
      auto waiters = std::move(self->stop_waiters_);
      for (auto& w : waiters) w();
      self->cb_ = {};
      if (self->stdout_) self->stdout_->Close();
      if (self->stderr_) self->stderr_->Close();
    });
  }

 private:
  void OnStderr(std::string_view data) {
    err_buf_.append(data);
    size_t nl;
    while ((nl = err_buf_.find('\n')) != std::string::npos) {
      std::string line = err_buf_.substr(0, nl);
      err_buf_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (cb_.on_stderr_line && !line.empty()) cb_.on_stderr_line(line);
    }
    if (err_buf_.size() > 65536) FlushStderr();
  }
  void FlushStderr() {
    if (!err_buf_.empty() && cb_.on_stderr_line) cb_.on_stderr_line(err_buf_);
    err_buf_.clear();
  }

  io::Loop& loop_;
  pid_t pid_;
  Callbacks cb_;
  std::unique_ptr<io::Pipe> stdin_, stdout_, stderr_;
  std::string err_buf_;
  bool exited_ = false;
  bool stopping_ = false;
  bool stdout_open_ = true;
  io::TimerId term_timer_ = 0, kill_timer_ = 0;
  std::vector<std::function<void()>> stop_waiters_;
};

class SpawnerImpl : public Spawner {
 public:
  explicit SpawnerImpl(io::Loop& loop) : loop_(loop) {
    loop_.OnSignal(SIGCHLD, [this] { Reap(); });
  }

  Result<std::shared_ptr<Process>> Spawn(const SpawnOptions& opt, Process::Callbacks cb) override {
    if (opt.argv.empty()) return MakeError("empty command");
    int in[2], out[2], err[2], status_pipe[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
        pipe2(status_pipe, O_CLOEXEC)) {
      return MakeError(std::string("pipe: ") + std::strerror(errno));
    }
    // Build argv/envp before fork: the child only calls async-signal-safe functions.
    std::vector<char*> argv;
    for (const auto& a : opt.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** e = environ; *e; ++e) {
      std::string_view kv(*e);
      auto key = std::string(kv.substr(0, kv.find('=')));
      if (!opt.env.count(key)) env_storage.emplace_back(kv);
    }
    for (const auto& [k, v] : opt.env) {
      std::string kv = k;
      kv += '=';
      kv += v;
      env_storage.push_back(std::move(kv));
    }
    std::vector<char*> envp;
    envp.reserve(env_storage.size() + 1);
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    // PATH lookup with the child's PATH.
    std::string path_env = opt.env.count("PATH")
                               ? opt.env.at("PATH")
                               : (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    std::vector<std::string> candidates;
    if (opt.argv[0].find('/') != std::string::npos) {
      candidates.push_back(opt.argv[0]);
    } else {
      size_t start = 0;
      while (start <= path_env.size()) {
        size_t colon = path_env.find(':', start);
        std::string dir =
            path_env.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (dir.empty()) dir = ".";
        candidates.push_back(dir + "/" + opt.argv[0]);
        if (colon == std::string::npos) break;
        start = colon + 1;
      }
    }

    pid_t pid = fork();
    if (pid < 0) return MakeError(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      setpgid(0, 0);
      // Default signal dispositions and an empty mask for the child.
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) signal(s, SIG_DFL);
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
      int child_errno = 0;
      if (!opt.cwd.empty() && chdir(opt.cwd.c_str()) != 0) {
        child_errno = errno;
      } else {
        for (const auto& c : candidates) {
          execve(c.c_str(), argv.data(), envp.data());
          if (errno != ENOENT && errno != ENOTDIR) {
            child_errno = errno;
            break;
          }
          child_errno = errno;
        }
      }
      ssize_t ignored = write(status_pipe[1], &child_errno, sizeof child_errno);
      (void)ignored;
      _exit(127);
    }
    setpgid(pid, pid);  // also from the parent, so the group exists before we ever signal it
    close(in[0]);
    close(out[1]);
    close(err[1]);
    close(status_pipe[1]);
    int child_errno = 0;
    ssize_t n;
    do {
      n = read(status_pipe[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(status_pipe[0]);
    if (n == sizeof child_errno) {
      close(in[1]);
      close(out[0]);
      close(err[0]);
      int st;
      waitpid(pid, &st, 0);
      std::string what = std::strerror(child_errno);
      return MakeError("cannot start '" + opt.argv[0] + "'" +
                       (opt.cwd.empty() ? "" : " in '" + opt.cwd + "'") + ": " + what);
    }
    for (int fd : {in[1], out[0], err[0]}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    auto proc = std::make_shared<ProcessImpl>(loop_, pid, std::move(cb));
    proc->Attach(in[1], out[0], err[0]);
    live_[pid] = proc;
    return std::shared_ptr<Process>(proc);
  }

  size_t LiveCount() const override { return live_.size(); }

 private:
  void Reap() {
    for (auto it = live_.begin(); it != live_.end();) {
      int status = 0;
      pid_t r = waitpid(it->first, &status, WNOHANG);
      if (r == it->first) {
        auto proc = it->second;
        it = live_.erase(it);
        if (proc) proc->OnReaped(status);
      } else {
        ++it;
      }
    }
  }

  io::Loop& loop_;
  // Strong references: a process object lives until its child is reaped, even if its owner is gone,
  // so the TERM/KILL escalation still runs.
  std::unordered_map<pid_t, std::shared_ptr<ProcessImpl>> live_;
};

}  // namespace

std::unique_ptr<Spawner> NewSpawner(io::Loop& loop) { return std::make_unique<SpawnerImpl>(loop); }

}  // namespace mcpgw::upstream
