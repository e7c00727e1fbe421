// The compiled policy the embedded decider and `mcpgw pdp` evaluate: loaded from .rego/.json
// files (rego::LoadPaths, OPA's loader rules), hot-reloaded when the files change, with runtime
// data written over the files' data (the emergency switch, OPA's PUT /v1/data).
//
// Reloading: every `reload_interval_ms` (and on Reload()) the paths are walked and each file's
// size, mtime and inode compared with the last load; new or removed files count too. A changed
// tree is loaded and compiled; if that fails, the error is logged and kept (last_error()) and the
// current policy keeps serving. Runtime data survives reloads, except at a path whose file data
// changed: the most recent change wins.
//
// The current policy is an immutable rego::Policy behind an atomically swapped shared_ptr:
// evaluations that started on the old one finish on it.
//
// Threading: Load/Reload/SetData/DeleteData and the timer run on the loop thread; Current() may
// be called from any thread. A change found by the timer is read and compiled on a worker thread
// (a large policy takes a while to compile; requests keep being decided by the current one
// meanwhile) and put in place on the loop thread. Load and Reload compile inline.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "io/loop.h"
#include "policy/event.h"
#include "rego/engine.h"
#include "rego/loader.h"
#include "rego/value.h"

namespace mcpgw::policy {

class PolicyStore {
 public:
  PolicyStore(io::Loop& loop, std::vector<std::string> paths, int64_t reload_interval_ms);
  ~PolicyStore();
  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;

  // Loads and compiles the files now (an error leaves no policy, or the previous one).
  Status Load();
  // Starts the change-detection timer (no-op when the interval is 0).
  void StartWatching();
  void StopWatching();
  // Reloads if any file changed since the last attempt (`force`: in any case). Returns the error
  // of a rejected policy; ok when nothing changed or the new policy is in place. `trigger` is
  // what the observer is told caused it.
  Status Reload(bool force, std::string trigger = "sighup");

  // Told (on the loop thread) each time a load is put in place or rejected, and each time
  // runtime data changes the policy. Set before Load() to see the first load.
  void SetObserver(PolicyObserver observer) { observer_ = std::move(observer); }

  std::shared_ptr<const rego::Policy> Current() const { return current_.load(); }

  // Runtime data over the files' data. SetData replaces the document at `path` (creating
  // objects on the way, like `mkdir -p`); DeleteData removes it. Both recompile; on error (the
  // path runs through a non-object, conflicts with a rule, or does not exist) nothing changes.
  Status SetData(const std::vector<std::string>& path, const rego::Value& value);
  Status DeleteData(const std::vector<std::string>& path);
  // The data document at `path` as currently in force (files + runtime data), nullopt if none.
  std::optional<rego::Value> GetData(const std::vector<std::string>& path) const;

  uint64_t generation() const { return generation_; }  // successful compiles so far
  const std::string& last_error() const { return last_error_; }
  size_t file_count() const { return files_.size(); }
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  struct Override {
    std::vector<std::string> path;
    std::optional<rego::Value> value;  // nullopt: deleted
  };

  // What a load produces, off the loop: the files read and compiled, or why not.
  struct Loaded {
    uint64_t seq = 0;
    std::string trigger;
    std::string fingerprint;
    Result<rego::LoadedFiles> files = MakeError("not loaded");
    Result<std::shared_ptr<const rego::Policy>> compiled = MakeError("not compiled");
  };
  static Loaded LoadFiles(const std::vector<std::string>& paths, uint64_t seq, std::string trigger,
                          std::string fingerprint);
  Status Apply(Loaded loaded);
  void StartBackgroundLoad(std::string fingerprint);
  void JoinWorker();

  std::string Fingerprint() const;
  rego::Value EffectiveData(const std::vector<Override>& overrides) const;
  Status Compile(const std::vector<Override>& overrides);
  // Puts runtime data `next` (the last one changed `path`) in place if it compiles.
  Status CompileData(std::vector<Override> next, const std::vector<std::string>& path);
  void Notify(PolicyEvent::Kind kind, std::string trigger, std::string path, std::string error);
  void ScheduleCheck();

  io::Loop& loop_;
  std::vector<std::string> paths_;
  int64_t reload_interval_ms_;
  io::TimerId timer_ = 0;
  bool watching_ = false;

  std::atomic<std::shared_ptr<const rego::Policy>> current_;
  // From the last successful load.
  std::vector<rego::ModuleSource> modules_;
  rego::Value base_data_ = rego::Value::EmptyObject();
  std::vector<std::string> files_;
  bool loaded_ = false;
  std::vector<Override> overrides_;
  std::string fingerprint_;  // of the last load attempt (successful or not)
  uint64_t load_seq_ = 0;    // loads started; an older one finishing late is dropped
  uint64_t applied_seq_ = 0;
  std::thread worker_;  // the background load in progress, if any
  std::atomic<bool> worker_done_{false};
  std::shared_ptr<PolicyStore*> self_ = std::make_shared<PolicyStore*>(this);  // for posts
  std::string last_error_;
  uint64_t generation_ = 0;
  PolicyObserver observer_;
};

// Value helpers for data paths (objects with string keys).
std::optional<rego::Value> ValueAt(const rego::Value& root, const std::vector<std::string>& path);
// Returns root with the document at `path` replaced (objects created on the way) or, for
// nullopt, removed. Errors when the path runs through something that is not an object.
Result<rego::Value> WithValueAt(const rego::Value& root, const std::vector<std::string>& path,
                                const std::optional<rego::Value>& value);

}  // namespace mcpgw::policy
