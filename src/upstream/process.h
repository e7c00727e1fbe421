// Child processes for stdio upstreams. Each child runs in its own process group with its own
// environment and working directory; its stdin/stdout/stderr are pipes owned by the loop.
// Exit is noticed through SIGCHLD and every child is reaped (never a zombie).
// Stop: close stdin, wait, SIGTERM the group, wait, SIGKILL the group.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "io/loop.h"

namespace mcpgw::upstream {

struct SpawnOptions {
  std::vector<std::string> argv;           // argv[0] is looked up in PATH
  std::map<std::string, std::string> env;  // added to (and overriding) the gateway's environment
  std::string cwd;                         // empty: the gateway's
};

class Process {
 public:
  struct Callbacks {
    std::function<void(std::string_view)> on_stdout;
    std::function<void(std::string_view)> on_stderr_line;
    std::function<void(int status_code, std::string how)> on_exit;  // once, after reaping
  };
  virtual ~Process() = default;
  virtual pid_t pid() const = 0;
  virtual bool WriteStdin(std::string data) = 0;
  virtual size_t PendingStdin() const = 0;
  // Graceful stop; `done` runs once the child has been reaped (at most grace*2 later).
  virtual void Stop(io::Millis grace, std::function<void()> done) = 0;
  virtual bool running() const = 0;
  // Drops the callbacks (the owner is going away); the process is still stopped and reaped.
  virtual void Detach() = 0;
};

// Watches SIGCHLD for every process it spawned. One per loop.
class Spawner {
 public:
  virtual ~Spawner() = default;
  virtual Result<std::shared_ptr<Process>> Spawn(const SpawnOptions& options,
                                                 Process::Callbacks cb) = 0;
  virtual size_t LiveCount() const = 0;
};

std::unique_ptr<Spawner> NewSpawner(io::Loop& loop);

}  // namespace mcpgw::upstream
