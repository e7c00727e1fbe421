// A throwaway PostgreSQL server for tests and benchmarks: a fresh cluster in a temporary directory
// (under /dev/shm when it can, else /tmp), listening only on a Unix socket inside that directory,
// so nothing on the machine's network or in any other cluster is touched. Each CreateDatabase()
// gives a test an empty database.
//
// initdb runs once per PostgreSQL build: its result is kept in MCPGW_PG_TEMPLATE_CACHE (the
// environment variable, else <build dir>/pg-template-cache; "" turns the cache off) and later
// clusters are copies of it, because ctest runs every test in a process of its own.
//
// The server binaries are found on PATH, then in /usr/lib/postgresql/<version>/bin. When they are
// not installed, Create() fails with code kNotInstalled so a test can skip; any other failure is
// a real error. PostgreSQL refuses to run as root: under root the cluster is owned by, and the
// server runs as, the `postgres` user (or `nobody` when there is none).
//
// Ownership: the harness owns the server process and the directory; the destructor stops the
// server (pg_ctl stop -m immediate: nothing is kept) and deletes the directory.
// Thread-safety: one thread at a time. Blocking (each call waits for pg_ctl).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace mcpgw::history::testing {

class PgHarness {
 public:
  // Error code of Create() when initdb/pg_ctl cannot be found.
  static constexpr int kNotInstalled = 404;

  struct Options {
    // false (tests): in memory (/dev/shm) when possible, fsync and synchronous_commit off, so
    // setup and tests are quick.
    // true (benchmarks): on disk with the server's defaults, so commits reach the disk as in
    // production.
    bool durable = false;
  };

  // initdb + start. Takes about a second.
  static Result<std::unique_ptr<PgHarness>> Create(Options options);
  static Result<std::unique_ptr<PgHarness>> Create() { return Create(Options{}); }

  ~PgHarness();
  PgHarness(const PgHarness&) = delete;
  PgHarness& operator=(const PgHarness&) = delete;

  // Stops the server (fast shutdown: open connections are cut) and starts it again on the same
  // socket, for outage tests. Both are no-ops when the server is already in that state.
  Status Stop();
  Status Start();
  bool running() const { return running_; }

  // Creates database `name` ([a-z0-9_]+) and returns its libpq connection URI.
  Result<std::string> CreateDatabase(const std::string& name);
  // The connection URI of database `name` (which need not exist yet).
  std::string ConnInfo(const std::string& name) const;

 private:
  PgHarness() = default;
  Status InitDataDir();
  Status RunTool(const std::string& tool, const std::vector<std::string>& args) const;

  std::string bin_dir_;   // where initdb and pg_ctl live
  std::string dir_;       // temporary directory: socket, logs, data/
  std::string data_dir_;  // dir_/data
  bool durable_ = false;
  bool running_ = false;
  // When running as root: the unprivileged account that owns the cluster (-1: none, run as self).
  int run_uid_ = -1;
  int run_gid_ = -1;
};

}  // namespace mcpgw::history::testing
