#include "history/pg_harness.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace mcpgw::history::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSuperuser = "mcp";
// The socket lives in the harness's own directory, so any port number is free.
constexpr const char* kPort = "5432";

bool IsExecutable(const fs::path& p) { return ::access(p.c_str(), X_OK) == 0; }

bool HasServerTools(const fs::path& dir) {
  return IsExecutable(dir / "initdb") && IsExecutable(dir / "pg_ctl");
}

// PATH first, then the Debian/Ubuntu layout, newest version first.
std::string FindBinDir() {
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (!dir.empty() && HasServerTools(dir)) return dir;
    }
  }
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (HasServerTools(entry.path() / "bin")) candidates.push_back(entry.path() / "bin");
  }
  std::sort(candidates.begin(), candidates.end(), [](const fs::path& a, const fs::path& b) {
    return std::atoi(a.parent_path().filename().c_str()) >
           std::atoi(b.parent_path().filename().c_str());
  });
  return candidates.empty() ? "" : candidates.front().string();
}

// Where the cluster's directory goes. A throwaway cluster lives in memory (/dev/shm) when it can:
// on a slow virtual disk, writing the cluster's files costs most of a test's time. A durable one
// goes to disk. A Unix socket path is limited to ~107 bytes, and under root the server account
// must be able to reach the directory: /dev/shm and /tmp satisfy both.
std::string BaseDir(bool durable, bool root) {
  struct statvfs vfs {};
  if (!durable && ::access("/dev/shm", W_OK | X_OK) == 0 && ::statvfs("/dev/shm", &vfs) == 0 &&
      static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize > (uint64_t{1} << 30)) {
    return "/dev/shm";
  }
  std::string tmp = fs::temp_directory_path().string();
  return root || tmp.size() > 60 ? "/tmp" : tmp;
}

std::string Tail(const std::string& path, size_t max_bytes = 2000) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

// Besides -D: trust over the socket, a known superuser, and the encoding production uses.
const std::vector<std::string>& InitdbArgs() {
  static const std::vector<std::string> args{"-A", "trust", "-U",        kSuperuser,
                                             "-E", "UTF8",  "--locale=C"};
  return args;
}

// Where initialized clusters are kept between test processes: initdb costs about a second, a copy
// of its result a tenth of that, and ctest runs every test in a process of its own.
std::string TemplateCacheRoot() {
  if (const char* env = std::getenv("MCPGW_PG_TEMPLATE_CACHE")) return env;  // "" disables
#ifdef MCPGW_PG_TEMPLATE_CACHE
  return MCPGW_PG_TEMPLATE_CACHE;
#else
  return "";
#endif
}

// One cache entry per server build and initdb arguments: a new PostgreSQL gets a new template.
std::string TemplateKey(const std::string& initdb) {
  std::error_code ec;
  fs::path real = fs::canonical(initdb, ec);
  auto mtime = fs::last_write_time(real, ec).time_since_epoch().count();
  auto size = fs::file_size(real, ec);
  std::string id = real.string() + "|" + std::to_string(mtime) + "|" + std::to_string(size);
  for (const std::string& a : InitdbArgs()) id += "|" + a;
  size_t h = std::hash<std::string>()(id);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016zx", h);
  return hex;
}

// Gives `root` and everything under it to uid:gid (the server refuses a data directory it does
// not own).
Status ChownTree(const fs::path& root, int uid, int gid) {
  auto chown_one = [&](const fs::path& p) -> Status {
    if (::lchown(p.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) {
      return MakeError("chown " + p.string() + ": " + std::strerror(errno));
    }
    return {};
  };
  if (auto st = chown_one(root); !st.ok()) return st;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (auto st = chown_one(it->path()); !st.ok()) return st;
  }
  if (ec) return MakeError("walking " + root.string() + ": " + ec.message());
  return {};
}

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};

// Whether process `pid` exists (one of another user's counts).
bool Alive(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

long ReadPid(const fs::path& file) {
  std::ifstream in(file);
  long pid = 0;
  in >> pid;
  return pid;
}

// Clusters left behind by test processes that died without stopping them (killed by a timeout,
// aborted by a sanitizer): the server is stopped and the directory removed. Only directories
// that name their owner (owner.pid, written by Create) are touched, and only a process whose
// command line names the cluster's data directory is signalled.
void ReapOrphans(const std::string& base) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(base, ec)) {
    const fs::path& dir = entry.path();
    if (dir.filename().string().rfind("mcpgw-pg-", 0) != 0) continue;
    const long owner = ReadPid(dir / "owner.pid");
    if (owner <= 0 || Alive(owner)) continue;
    const fs::path data = dir / "data";
    const long postmaster = ReadPid(data / "postmaster.pid");
    if (Alive(postmaster)) {
      std::ifstream cmd("/proc/" + std::to_string(postmaster) + "/cmdline", std::ios::binary);
      std::string cmdline((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
      if (cmdline.find(data.string()) != std::string::npos) {
        ::kill(static_cast<pid_t>(postmaster), SIGQUIT);  // immediate shutdown
        for (int i = 0; i < 100 && Alive(postmaster); ++i) ::usleep(50 * 1000);
      }
    }
    fs::remove_all(dir, ec);
  }
}

}  // namespace

Result<std::unique_ptr<PgHarness>> PgHarness::Create(Options options) {
  std::unique_ptr<PgHarness> h(new PgHarness());
  h->bin_dir_ = FindBinDir();
  if (h->bin_dir_.empty()) {
    return MakeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
        "/usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)",
        kNotInstalled);
  }
  h->durable_ = options.durable;

  const bool root = ::geteuid() == 0;
  std::string base = BaseDir(options.durable, root);
  ReapOrphans(base);
  std::string tmpl = base + "/mcpgw-pg-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return MakeError("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  h->dir_ = tmpl;
  std::ofstream(h->dir_ + "/owner.pid") << ::getpid() << '\n';
  h->data_dir_ = h->dir_ + "/data";

  if (root) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) pw = ::getpwnam("nobody");
    if (pw == nullptr)
      return MakeError("running as root, and neither user postgres nor nobody exists");
    h->run_uid_ = static_cast<int>(pw->pw_uid);
    h->run_gid_ = static_cast<int>(pw->pw_gid);
    if (::chown(h->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return MakeError("chown " + h->dir_ + ": " + std::strerror(errno));
    }
  }

  if (auto st = h->InitDataDir(); !st.ok()) return st.error();
  if (auto st = h->Start(); !st.ok()) return st.error();
  return h;
}

PgHarness::~PgHarness() {
  // Nothing is kept, so there is nothing to checkpoint.
  if (running_) (void)RunTool("pg_ctl", {"-D", data_dir_, "-m", "immediate", "-w", "stop"});
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

// A copy of the cached template when there is one; otherwise initdb, whose result then seeds the
// cache (copied aside and renamed into place, so a concurrent reader never sees half of it).
Status PgHarness::InitDataDir() {
  std::string cache_root = TemplateCacheRoot();
  std::string cached;
  if (!cache_root.empty()) cached = cache_root + "/" + TemplateKey(bin_dir_ + "/initdb");
  std::error_code ec;
  if (!cached.empty() && fs::exists(cached + "/PG_VERSION", ec)) {
    fs::copy(cached, data_dir_, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (!ec) return run_uid_ >= 0 ? ChownTree(data_dir_, run_uid_, run_gid_) : Status();
    // Unreadable (another user's cache, say): initdb as if there were none.
    fs::remove_all(data_dir_, ec);
    cached.clear();
  }

  std::vector<std::string> args{"-D", data_dir_, "--no-sync"};
  args.insert(args.end(), InitdbArgs().begin(), InitdbArgs().end());
  if (auto st = RunTool("initdb", args); !st.ok()) return st;

  if (!cached.empty()) {
    std::string staging = cached + ".tmp" + std::to_string(::getpid());
    fs::create_directories(cache_root, ec);
    fs::copy(data_dir_, staging, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec || ::rename(staging.c_str(), cached.c_str()) != 0) fs::remove_all(staging, ec);
  }
  return {};
}

Status PgHarness::Start() {
  if (running_) return {};
  std::string opts = "-k '" + dir_ + "' -c listen_addresses='' -p " + kPort;
  if (!durable_) opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  if (auto st = RunTool("pg_ctl", {"-D", data_dir_, "-l", dir_ + "/server.log", "-w", "-t", "30",
                                   "-o", opts, "start"});
      !st.ok()) {
    return MakeError(st.error().message + "\nserver.log:\n" + Tail(dir_ + "/server.log"));
  }
  running_ = true;
  return {};
}

Status PgHarness::Stop() {
  if (!running_) return {};
  if (auto st = RunTool("pg_ctl", {"-D", data_dir_, "-m", "fast", "-w", "-t", "30", "stop"});
      !st.ok()) {
    return st;
  }
  running_ = false;
  return {};
}

std::string PgHarness::ConnInfo(const std::string& name) const {
  return std::string("postgresql://") + kSuperuser + "@/" + name + "?host=" + dir_ +
         "&port=" + kPort;
}

Result<std::string> PgHarness::CreateDatabase(const std::string& name) {
  if (name.empty() ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
    return MakeError("database name must match [a-z0-9_]+: " + name);
  }
  std::unique_ptr<PGconn, ConnCloser> conn(PQconnectdb(ConnInfo("postgres").c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return MakeError(std::string("connect: ") + PQerrorMessage(conn.get()));
  }
  std::unique_ptr<PGresult, ResultCloser> res(
      PQexec(conn.get(), ("CREATE DATABASE " + name).c_str()));
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    return MakeError("CREATE DATABASE " + name + ": " + PQresultErrorMessage(res.get()));
  }
  return ConnInfo(name);
}

// fork + exec rather than system(): no shell quoting of paths, and under root the child drops
// to the cluster's owner before exec.
Status PgHarness::RunTool(const std::string& tool, const std::vector<std::string>& args) const {
  std::string exe = bin_dir_ + "/" + tool;
  std::vector<std::string> argv_store{exe};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_store.size() + 1);
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::string log_path = dir_ + "/" + tool + ".log";
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) return MakeError("open " + log_path + ": " + std::strerror(errno));
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (::chdir(dir_.c_str()) != 0) ::_exit(126);
    if (run_uid_ >= 0) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(static_cast<gid_t>(run_gid_)) != 0 ||
          ::setuid(static_cast<uid_t>(run_uid_)) != 0) {
        ::_exit(126);
      }
    }
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) return MakeError(std::string("fork: ") + std::strerror(errno));

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return MakeError(std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "signal " + std::to_string(WTERMSIG(status));
  return MakeError(tool + " failed (" + how + "):\n" + Tail(log_path));
}

}  // namespace mcpgw::history::testing
