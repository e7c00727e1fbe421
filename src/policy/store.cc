#include "policy/store.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "common/log.h"
#include "rego/loader.h"

namespace mcpgw::policy {
namespace fs = std::filesystem;

std::optional<rego::Value> ValueAt(const rego::Value& root, const std::vector<std::string>& path) {
  const rego::Value* cur = &root;
  for (const auto& key : path) {
    if (!cur->is_object()) return std::nullopt;
    cur = cur->Get(key);
    if (!cur) return std::nullopt;
  }
  return *cur;
}

namespace {

Result<rego::Value> SetIn(const rego::Value& node, const std::vector<std::string>& path, size_t i,
                          const std::optional<rego::Value>& value) {
  if (i == path.size()) return value.value_or(rego::Value());
  if (!node.is_object()) {
    std::string at = "data";
    for (size_t k = 0; k < i; ++k) at += "." + path[k];
    return MakeError(at + " is " + std::string(node.TypeName()) + ", not an object");
  }
  rego::Object o = node.object();
  auto key = rego::Value::String(path[i]);
  auto it = o.find(key);
  if (i + 1 == path.size() && !value) {
    if (it == o.end()) return MakeError("document not found");
    o.erase(it);
    return rego::Value::FromObject(std::move(o));
  }
  rego::Value child = it == o.end() ? rego::Value::EmptyObject() : it->second;
  if (it == o.end() && !value) return MakeError("document not found");
  auto sub = SetIn(child, path, i + 1, value);
  if (!sub.ok()) return sub;
  o.insert_or_assign(key, std::move(sub).value());
  return rego::Value::FromObject(std::move(o));
}

bool Hidden(const fs::path& p) {
  std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

void AppendStat(std::string& out, const std::string& file) {
  struct stat st {};
  out += file;
  if (::stat(file.c_str(), &st) != 0) {
    out += "\t-\n";
    return;
  }
  out += '\t' + std::to_string(st.st_ino) + '\t' + std::to_string(st.st_size) + '\t' +
         std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + '\n';
}

}  // namespace

Result<rego::Value> WithValueAt(const rego::Value& root, const std::vector<std::string>& path,
                                const std::optional<rego::Value>& value) {
  if (path.empty() && value && !value->is_object())
    return MakeError("the root data document must be an object");
  if (path.empty() && !value) return rego::Value::EmptyObject();
  return SetIn(root, path, 0, value);
}

PolicyStore::PolicyStore(io::Loop& loop, std::vector<std::string> paths, int64_t reload_interval_ms)
    : loop_(loop), paths_(std::move(paths)), reload_interval_ms_(reload_interval_ms) {}

PolicyStore::~PolicyStore() {
  StopWatching();
  JoinWorker();
}

// Every regular file under the paths (hidden entries skipped, like the loader), with what
// changes when it is edited or replaced. Cheap enough to run twice a second on a policy tree.
std::string PolicyStore::Fingerprint() const {
  std::string out;
  for (const auto& root : paths_) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
      AppendStat(out, root);
      continue;
    }
    std::vector<std::string> files;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (Hidden(it->path())) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file(ec)) files.push_back(it->path().string());
    }
    if (ec) out += root + "\t!" + ec.message() + '\n';
    std::sort(files.begin(), files.end());
    for (const auto& f : files) AppendStat(out, f);
  }
  return out;
}

rego::Value PolicyStore::EffectiveData(const std::vector<Override>& overrides) const {
  rego::Value data = base_data_;
  for (const auto& o : overrides) {
    auto next = WithValueAt(data, o.path, o.value);
    if (next.ok()) data = std::move(next).value();
  }
  return data;
}

Status PolicyStore::Compile(const std::vector<Override>& overrides) {
  auto compiled = rego::Policy::Compile(modules_, EffectiveData(overrides));
  if (!compiled.ok()) return compiled.error();
  current_.store(std::move(compiled).value());
  ++generation_;
  return {};
}

void PolicyStore::Notify(PolicyEvent::Kind kind, std::string trigger, std::string path,
                         std::string error) {
  if (!observer_) return;
  PolicyEvent e;
  e.kind = kind;
  e.trigger = std::move(trigger);
  e.generation = generation_;
  e.files = files_.size();
  e.modules = modules_.size();
  e.path = std::move(path);
  e.error = std::move(error);
  observer_(e);
}

Status PolicyStore::Load() { return Reload(/*force=*/true, "start"); }

Status PolicyStore::Reload(bool force, std::string trigger) {
  std::string fp = Fingerprint();
  if (!force && loaded_ && fp == fingerprint_) return {};
  if (!force && !loaded_ && fp == fingerprint_) return MakeError(last_error_);
  return Apply(LoadFiles(paths_, ++load_seq_, std::move(trigger), std::move(fp)));
}

PolicyStore::Loaded PolicyStore::LoadFiles(const std::vector<std::string>& paths, uint64_t seq,
                                           std::string trigger, std::string fingerprint) {
  Loaded l;
  l.seq = seq;
  l.trigger = std::move(trigger);
  l.fingerprint = std::move(fingerprint);
  l.files = rego::LoadPaths(paths);
  if (l.files.ok()) l.compiled = rego::Policy::Compile(l.files->modules, l.files->data);
  return l;
}

void PolicyStore::StartBackgroundLoad(std::string fingerprint) {
  worker_done_ = false;
  worker_ = std::thread([this, paths = paths_, seq = ++load_seq_, fp = std::move(fingerprint),
                         weak = std::weak_ptr<PolicyStore*>(self_)]() mutable {
    auto loaded = std::make_shared<Loaded>(LoadFiles(paths, seq, "watch", std::move(fp)));
    loop_.Post([weak, loaded] {
      if (auto self = weak.lock()) (void)(*self)->Apply(std::move(*loaded));
    });
    worker_done_ = true;  // the destructor joins before `this` goes away
  });
}

void PolicyStore::JoinWorker() {
  if (worker_.joinable()) worker_.join();
}

Status PolicyStore::Apply(Loaded loaded) {
  if (loaded.seq < applied_seq_) return {};  // a newer load is already in place
  applied_seq_ = loaded.seq;
  fingerprint_ = loaded.fingerprint;
  auto fail = [&](const std::string& why) -> Status {
    last_error_ = why;
    if (loaded_) {
      log::Error("policy rejected; the previous policy keeps serving", {{"error", why}});
    } else {
      log::Error("policy cannot be loaded", {{"error", why}});
    }
    Notify(PolicyEvent::Kind::kRejected, loaded.trigger, "", why);
    return MakeError(why);
  };
  if (!loaded.files.ok()) return fail(loaded.files.error().message);
  if (!loaded.compiled.ok()) return fail(loaded.compiled.error().message);
  auto& files = loaded.files;
  std::vector<rego::ModuleSource> modules = std::move(files->modules);
  rego::Value data = files->data;
  auto& compiled = loaded.compiled;

  // Runtime data stays over the new files unless the file data it replaced has changed since.
  std::vector<Override> kept;
  for (auto& o : overrides_) {
    if (!(ValueAt(base_data_, o.path) == ValueAt(data, o.path))) {
      std::string p;
      for (const auto& s : o.path) p += "/" + s;
      log::Warn("a file change replaces runtime data", {{"path", p}});
      continue;
    }
    kept.push_back(o);
  }
  std::swap(modules_, modules);
  std::swap(base_data_, data);
  if (!kept.empty()) {
    Status with_overrides = Compile(kept);
    if (!with_overrides.ok()) {
      log::Warn("runtime data no longer compiles with the new files and is dropped",
                {{"error", with_overrides.error().message}});
      kept.clear();
    }
  }
  if (kept.empty()) {
    current_.store(std::move(compiled).value());
    ++generation_;
  }
  overrides_ = std::move(kept);
  files_ = std::move(files->files);
  bool first = !loaded_;
  loaded_ = true;
  last_error_.clear();
  log::Info(first ? "policy loaded" : "policy reloaded",
            {{"files", static_cast<int64_t>(files_.size())},
             {"modules", static_cast<int64_t>(modules_.size())},
             {"generation", static_cast<int64_t>(generation_)}});
  Notify(PolicyEvent::Kind::kReloaded, loaded.trigger, "", "");
  return {};
}

Status PolicyStore::SetData(const std::vector<std::string>& path, const rego::Value& value) {
  if (!loaded_) return MakeError("no policy is loaded");
  std::vector<Override> next;
  for (const auto& o : overrides_) {
    // A write replaces everything at and under its path.
    bool under =
        o.path.size() >= path.size() && std::equal(path.begin(), path.end(), o.path.begin());
    if (!under) next.push_back(o);
  }
  auto check = WithValueAt(EffectiveData(next), path, value);
  if (!check.ok()) return check.error();
  next.push_back(Override{path, value});
  return CompileData(std::move(next), path);
}

Status PolicyStore::DeleteData(const std::vector<std::string>& path) {
  if (!loaded_) return MakeError("no policy is loaded");
  if (!GetData(path)) return MakeError("document not found");
  // Applied after the others: what they created around the path stays.
  std::vector<Override> next = overrides_;
  next.push_back(Override{path, std::nullopt});
  return CompileData(std::move(next), path);
}

Status PolicyStore::CompileData(std::vector<Override> next, const std::vector<std::string>& path) {
  Status s = Compile(next);
  if (!s.ok()) return s;
  overrides_ = std::move(next);
  std::string joined;
  for (const auto& p : path) joined += (joined.empty() ? "" : "/") + p;
  Notify(PolicyEvent::Kind::kReloaded, "data", std::move(joined), "");
  return {};
}

std::optional<rego::Value> PolicyStore::GetData(const std::vector<std::string>& path) const {
  return ValueAt(EffectiveData(overrides_), path);
}

void PolicyStore::StartWatching() {
  if (reload_interval_ms_ <= 0 || watching_) return;
  watching_ = true;
  ScheduleCheck();
}

void PolicyStore::StopWatching() {
  watching_ = false;
  if (timer_) loop_.Cancel(timer_);
  timer_ = 0;
}

void PolicyStore::ScheduleCheck() {
  timer_ = loop_.After(io::Millis(reload_interval_ms_), [this] {
    timer_ = 0;
    if (!watching_) return;
    if (worker_done_) JoinWorker();
    if (!worker_.joinable()) {  // one background load at a time
      std::string fp = Fingerprint();
      if (fp != fingerprint_) StartBackgroundLoad(std::move(fp));
    }
    ScheduleCheck();
  });
}

}  // namespace mcpgw::policy
