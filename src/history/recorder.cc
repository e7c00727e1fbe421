#include "history/recorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/log.h"
#include "history/row_json.h"

namespace mcpgw::history {
namespace {

using Clock = std::chrono::steady_clock;

class RecorderImpl : public Recorder {
 public:
  RecorderImpl(io::Loop& loop, const RecorderOptions& opts, std::unique_ptr<Store> store)
      : loop_(loop), opts_(opts), store_(std::move(store)) {
    // kAsync rows are written in the background: long batches give up the CPU now and then.
    store_->SetBackground(opts_.durability == Durability::kAsync);
    redact_ = redact_hash_ = opts_.redact;
    redact_.hash_only = false;
    redact_hash_.hash_only = true;
    OpenSpool();
    // Reads go to threads of their own when the store allows (PostgreSQL: a read pool), so a
    // slow query never holds up the writer; otherwise the writer runs them between batches.
    if (store_->ConcurrentReads()) {
      for (size_t i = 0; i < std::max<size_t>(1, store_->ReadConnections()); ++i) {
        readers_.emplace_back([this] { ReadLoop(); });
      }
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~RecorderImpl() override {
    Stop();
    if (spool_fd_ >= 0) ::close(spool_fd_);
  }

  bool Record(ToolCallRow row, std::optional<CallArguments> args,
              std::function<void()> durable) override {
    std::function<void()> answer_now;  // kAsync: the call is answered before its row is written
    if (opts_.durability == Durability::kAsync) answer_now.swap(durable);
    const bool early = static_cast<bool>(answer_now);
    const bool awaited = static_cast<bool>(durable);  // kSync: an answer waits for the commit
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (Queued() >= opts_.max_queue || stopping_) {
        ++stats_.refused;
        return false;
      }
      calls_.push_back({std::move(row), std::move(args), std::move(durable), early});
      if (early) ++stats_.at_risk;
      stats_.queued = Queued();
      wake = WakeWriter();
    }
    if (wake) cv_.notify_one();
    if (early) {
      answer_now();
    } else if (awaited && opts_.sync_busy_poll.count() > 0) {
      loop_.BusyPollFor(opts_.sync_busy_poll);  // the commit is due in tens of microseconds
    }
    return true;
  }

  bool Audit(AuditRow row) override {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (Queued() >= opts_.max_queue || stopping_) {
        ++stats_.refused;
        return false;
      }
      audits_.push_back(std::move(row));
      stats_.queued = Queued();
      wake = WakeWriter();
    }
    if (wake) cv_.notify_one();
    return true;
  }

  void SeenUser(UserRow user) override {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      auto it = users_.find(user.subject);
      if (it != users_.end()) {
        MergeUser(it->second, user);
        return;  // the writer is already due to write it
      }
      if (users_.size() >= opts_.max_queue) return;  // a mirror: dropping a sighting is harmless
      users_.emplace(user.subject, std::move(user));
      wake = WakeWriter();
    }
    if (wake) cv_.notify_one();
  }

  void QueryToolCalls(Query q,
                      std::function<void(Result<std::vector<ToolCallRow>>)> done) override {
    Enqueue([this, q, done = std::move(done)]() mutable {
      auto r = store_->QueryToolCalls(q);
      loop_.Post([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    });
  }

  void QueryAudit(Query q, std::function<void(Result<std::vector<AuditRow>>)> done) override {
    Enqueue([this, q, done = std::move(done)]() mutable {
      auto r = store_->QueryAudit(q);
      loop_.Post([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    });
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    {
      std::lock_guard<std::mutex> lock(read_mu_);
      readers_stopping_ = true;
    }
    read_cv_.notify_all();
    for (auto& t : readers_) t.join();
    readers_.clear();
  }

  RecorderStats stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  Durability durability() const override { return opts_.durability; }
  bool Accepting() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return !stopping_ && calls_.size() + audits_.size() < opts_.max_queue &&
           stats_.spool_pending_bytes < opts_.spool_max_bytes;
  }

 private:
  struct PendingCall {
    ToolCallRow row;
    std::optional<CallArguments> args;  // to redact and hash into the row (writer thread)
    std::function<void()> durable;
    bool acked = false;  // kAsync: already answered (counted in at_risk until written)
  };

  size_t Queued() const { return calls_.size() + audits_.size(); }  // under mu_

  // Under mu_, after queueing something for the writer: whether to wake it. A writer that is busy
  // looks at the queue before it waits again, so only a waiting one is woken: in kSync at once (an
  // answer is held until its row is written); in kAsync only to end a wait with nothing to do (it
  // then lets rows gather for async_flush_interval) or when a batch is full. Every caller has just
  // made the writer's wake-up condition true, so clearing writer_waiting_ loses no wake-up and
  // spares the notifications of a burst.
  bool WakeWriter() {
    if (!writer_waiting_) return false;
    if (opts_.durability == Durability::kAsync && writer_gathering_ && Queued() < opts_.max_batch) {
      return false;
    }
    writer_waiting_ = false;
    return true;
  }

  // Fills the rows' args_redacted and args_sha256 from their arguments (writer thread; once).
  void RedactArgs(std::vector<PendingCall>& calls) const {
    CpuPacer pacer(opts_.durability == Durability::kAsync);
    for (auto& c : calls) {
      if (!c.args) continue;
      pacer.Tick();
      RedactedArgs r = RedactArguments(c.args->value, c.args->hash_only ? redact_hash_ : redact_);
      c.row.args_redacted = std::move(r.json);
      c.row.args_sha256 = std::move(r.sha256);
      c.args.reset();
    }
  }

  // Rows that are now in the database or the spool: no longer at risk.
  void Secured(const std::vector<PendingCall>& calls) {
    uint64_t n = 0;
    for (const auto& c : calls) n += c.acked ? 1 : 0;
    if (n == 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    stats_.at_risk -= std::min(stats_.at_risk, n);
  }

  void Enqueue(std::function<void()> task) {
    if (!readers_.empty()) {
      {
        std::lock_guard<std::mutex> lock(read_mu_);
        read_tasks_.push_back(std::move(task));
      }
      read_cv_.notify_one();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

  // A reader thread: runs queries until Stop(), finishing those already queued.
  void ReadLoop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(read_mu_);
        read_cv_.wait(lock, [&] { return readers_stopping_ || !read_tasks_.empty(); });
        if (read_tasks_.empty()) return;
        task = std::move(read_tasks_.front());
        read_tasks_.pop_front();
      }
      task();
    }
  }

  // The writer thread: batches of rows (group commit), queries in between.
  void Run() {
    std::vector<PendingCall> calls;
    std::vector<AuditRow> audits;
    std::map<std::string, UserRow> users;  // taken from users_, not yet written
    while (true) {
      std::deque<std::function<void()>> tasks;
      {
        std::unique_lock<std::mutex> lock(mu_);
        auto ready = [&] {
          return stopping_ || !calls_.empty() || !audits_.empty() || !tasks_.empty() ||
                 !users_.empty() || !calls.empty() || !audits.empty();
        };
        writer_waiting_ = true;
        if (SpoolPending() || !users.empty()) {
          cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms_), ready);
        } else {
          cv_.wait(lock, ready);
        }
        // kAsync: no answer waits for these rows, so they gather into one transaction instead of
        // one commit (and one wake-up of this thread, competing with the loop for a CPU) per call.
        if (opts_.durability == Durability::kAsync && !stopping_ && tasks_.empty() &&
            calls.empty() && audits.empty() && Queued() > 0 && Queued() < opts_.max_batch) {
          writer_waiting_ = writer_gathering_ = true;
          cv_.wait_for(lock, opts_.async_flush_interval,
                       [&] { return stopping_ || !tasks_.empty() || Queued() >= opts_.max_batch; });
          writer_gathering_ = false;
        }
        writer_waiting_ = false;
        while (!calls_.empty() && calls.size() < opts_.max_batch) {
          calls.push_back(std::move(calls_.front()));
          calls_.pop_front();
        }
        while (!audits_.empty() && audits.size() < opts_.max_batch) {
          audits.push_back(std::move(audits_.front()));
          audits_.pop_front();
        }
        for (auto& [subject, u] : users_) {
          auto [it, fresh] = users.try_emplace(subject, u);
          if (!fresh) MergeUser(it->second, u);
        }
        users_.clear();
        tasks.swap(tasks_);
        if (stopping_ && calls.empty() && audits.empty() && tasks.empty()) {
          lock.unlock();
          if (SpoolPending()) ReplaySpool();  // last chance; what is left stays for the next start
          if (!SpoolPending() && next_users_ <= Clock::now()) WriteUsers(users);
          return;
        }
      }
      RedactArgs(calls);
      for (auto& t : tasks) t();
      if (SpoolPending()) ReplaySpool();
      if (!calls.empty() || !audits.empty()) WriteBatch(calls, audits);
      // Users wait while the database is away (the spool has rows, or the last batch failed).
      if (!users.empty() && !SpoolPending() && Clock::now() >= next_users_) WriteUsers(users);
    }
  }

  void WriteUsers(std::map<std::string, UserRow>& users) {
    if (users.empty()) return;
    std::vector<UserRow> rows;
    rows.reserve(users.size());
    for (auto& [subject, u] : users) rows.push_back(u);
    Status st = store_->UpsertUsers(rows);
    if (!st.ok()) {
      users_backoff_ms_ = std::min(users_backoff_ms_ * 2, 5000);
      next_users_ = Clock::now() + std::chrono::milliseconds(users_backoff_ms_);
      std::lock_guard<std::mutex> lock(mu_);
      stats_.last_error = st.error().message;
      return;
    }
    users.clear();
    users_backoff_ms_ = 50;
    std::lock_guard<std::mutex> lock(mu_);
    stats_.users_written += rows.size();
  }

  // Commits tool calls, then audit rows (each its own transaction). What committed is cleared, so
  // a retry never writes a row twice; what failed stays, in order, for the next attempt.
  void WriteBatch(std::vector<PendingCall>& calls, std::vector<AuditRow>& audits) {
    // Rows behind spooled rows go to the spool too: the database receives them in order.
    if (SpoolPending()) return SpoolAndAck(calls, audits);
    Status st;
    if (!calls.empty()) {
      // The rows move to the store and back only if it failed (they are not copied per batch).
      std::vector<ToolCallRow> rows;
      rows.reserve(calls.size());
      for (auto& c : calls) rows.push_back(std::move(c.row));
      st = store_->AppendToolCalls(rows);
      if (!st.ok()) {
        for (size_t i = 0; i < calls.size(); ++i) {
          calls[i].row = std::move(rows[i]);
          calls[i].row.seq = 0;  // not linked after all
          calls[i].row.prev_hash.clear();
          calls[i].row.row_hash.clear();
        }
      }
      if (st.ok()) {
        std::vector<std::function<void()>> callbacks;
        for (auto& c : calls) {
          if (c.durable) callbacks.push_back(std::move(c.durable));
        }
        Written(calls.size());
        Secured(calls);
        calls.clear();
        if (!callbacks.empty()) {
          loop_.Post([cbs = std::move(callbacks)] {
            for (const auto& cb : cbs) cb();
          });
        }
      }
    }
    if (st.ok() && !audits.empty()) {
      st = store_->AppendAudit(audits);
      if (st.ok()) {
        Written(audits.size());
        audits.clear();
      }
    }
    if (st.ok()) {
      backoff_ms_ = 50;
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.failed_attempts;
      if (stats_.last_error != st.error().message) {
        log::Error(spool_fd_ >= 0 ? "history database unavailable; spooling rows to disk"
                                  : "history write failed; retrying",
                   {{"error", st.error().message}});
      }
      stats_.last_error = st.error().message;
    }
    backoff_ms_ = std::min(backoff_ms_ * 2, 5000);
    if (spool_fd_ >= 0) return SpoolAndAck(calls, audits);
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms_));
  }

  // ---- spool: JSON lines appended while the database is down, replayed in order later.

  void OpenSpool() {
    if (opts_.spool_path.empty()) return;
    spool_fd_ = ::open(opts_.spool_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (spool_fd_ < 0) {
      log::Error("cannot open the history spool; rows will wait in memory instead",
                 {{"path", opts_.spool_path}, {"error", std::strerror(errno)}});
      return;
    }
    std::ifstream off(opts_.spool_path + ".offset");
    off >> spool_offset_;
    struct stat st {};
    if (::fstat(spool_fd_, &st) == 0) spool_size_ = static_cast<uint64_t>(st.st_size);
    if (spool_offset_ > spool_size_) spool_offset_ = 0;
    stats_.spool_pending_bytes = spool_size_ - spool_offset_;
    if (SpoolPending())
      log::Warn("history spool has rows from before; replaying them first",
                {{"bytes", static_cast<int64_t>(spool_size_ - spool_offset_)}});
  }

  bool SpoolPending() const { return spool_fd_ >= 0 && spool_offset_ < spool_size_; }

  void SpoolAndAck(std::vector<PendingCall>& calls, std::vector<AuditRow>& audits) {
    std::string text;
    for (const auto& c : calls) text += ToolCallToJson(c.row) + "\n";
    for (const auto& a : audits) text += AuditToJson(a) + "\n";
    size_t off = 0;
    while (off < text.size()) {
      ssize_t n = ::write(spool_fd_, text.data() + off, text.size() - off);
      if (n <= 0) {
        if (errno == EINTR) continue;
        // Disk full or similar: keep the rows in memory and retry later (new calls are refused
        // once the queue fills).
        log::Error("history spool write failed", {{"error", std::strerror(errno)}});
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms_));
        return;
      }
      off += static_cast<size_t>(n);
    }
    spool_size_ += text.size();
    std::vector<std::function<void()>> callbacks;
    for (auto& c : calls) {
      if (c.durable) callbacks.push_back(std::move(c.durable));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.spooled += calls.size() + audits.size();
      stats_.spool_pending_bytes = spool_size_ - spool_offset_;
    }
    Secured(calls);
    calls.clear();
    audits.clear();
    if (!callbacks.empty()) {
      loop_.Post([cbs = std::move(callbacks)] {
        for (const auto& cb : cbs) cb();
      });
    }
  }

  // Writes spooled rows to the database in file order, a run of one row type at a time; the
  // offset of what is committed is kept in <spool>.offset. A gateway stopped between a run's
  // commit and the offset update finds that run again at the next start: so the first run a
  // process replays leaves out its leading rows that are in the database already.
  void ReplaySpool() {
    if (Clock::now() < next_replay_) return;
    std::ifstream in(opts_.spool_path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(spool_offset_));
    std::string line;
    std::vector<ToolCallRow> calls;
    std::vector<AuditRow> audits;
    uint64_t pos = spool_offset_;
    uint64_t run_end = pos;
    auto flush = [&]() -> bool {
      Status st;
      size_t skipped = 0;
      if (!first_run_checked_ && (!calls.empty() || !audits.empty())) {
        auto done =
            calls.empty()
                ? CommittedPrefix(audits, [&](const AuditRow& r) { return AuditInDatabase(r); })
                : CommittedPrefix(calls, [&](const ToolCallRow& r) { return CallInDatabase(r); });
        if (done.ok()) {
          first_run_checked_ = true;
          skipped = *done;
          if (skipped > 0) {
            log::Warn("history spool: rows already in the database are not written again",
                      {{"rows", static_cast<int64_t>(skipped)},
                       {"offset", static_cast<int64_t>(spool_offset_)}});
          }
        } else {
          st = Status(done.error());
        }
      }
      if (st.ok() && !calls.empty()) st = store_->AppendToolCalls(calls);
      if (st.ok() && !audits.empty()) st = store_->AppendAudit(audits);
      if (!st.ok()) {
        next_replay_ = Clock::now() + std::chrono::milliseconds(backoff_ms_);
        std::lock_guard<std::mutex> lock(mu_);
        stats_.last_error = st.error().message;
        return false;
      }
      size_t n = calls.size() + audits.size();
      calls.clear();
      audits.clear();
      spool_offset_ = run_end;
      std::ofstream(opts_.spool_path + ".offset", std::ios::trunc) << spool_offset_;
      std::lock_guard<std::mutex> lock(mu_);
      stats_.replayed += n;
      stats_.spool_pending_bytes = spool_size_ - spool_offset_;
      return true;
    };
    while (pos < spool_size_ && std::getline(in, line)) {
      pos += line.size() + 1;
      auto e = ParseSpoolLine(line);
      if (!e.ok()) {
        log::Error("history spool: unreadable line skipped",
                   {{"offset", static_cast<int64_t>(pos)}});
        run_end = pos;
        continue;
      }
      bool switch_type = (e->is_call && !audits.empty()) || (!e->is_call && !calls.empty());
      if (switch_type || calls.size() + audits.size() >= opts_.max_batch) {
        if (!flush()) return;
      }
      if (e->is_call) {
        calls.push_back(std::move(e->call));
      } else {
        audits.push_back(std::move(e->audit));
      }
      run_end = pos;
    }
    if (!flush()) return;
    if (spool_offset_ >= spool_size_) {
      // Everything is in the database: start the spool afresh.
      if (::ftruncate(spool_fd_, 0) == 0) {
        spool_size_ = spool_offset_ = 0;
        std::ofstream(opts_.spool_path + ".offset", std::ios::trunc) << 0;
      }
      backoff_ms_ = 50;
      log::Info("history spool replayed into the database");
      std::lock_guard<std::mutex> lock(mu_);
      stats_.spool_pending_bytes = 0;
      stats_.last_error.clear();
    }
  }

  // The first replay run of a process: drops the leading rows that are in the database already
  // (committed by a process stopped before it recorded the offset) and says how many.
  template <class Row, class InDb>
  Result<size_t> CommittedPrefix(std::vector<Row>& rows, InDb in_db) {
    size_t n = 0;
    for (; n < rows.size(); ++n) {
      auto found = in_db(rows[n]);
      if (!found.ok()) return found.error();
      if (!*found) break;
    }
    rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }

  // Whether a spooled row was committed before (see ReplaySpool): a row with the same times,
  // request, session and target (tool calls), or time, kind, request and detail (audit events).
  Result<bool> CallInDatabase(const ToolCallRow& r) {
    Query q = AtTime(r.ts_start_us);
    q.subject = r.subject;
    q.server = r.server;
    q.target = r.target;
    return AnyRow(store_->QueryToolCalls(q), [&](const ToolCallRow& x) {
      return x.request_id == r.request_id && x.session_id == r.session_id &&
             x.ts_end_us == r.ts_end_us && x.method == r.method;
    });
  }
  Result<bool> AuditInDatabase(const AuditRow& r) {
    Query q = AtTime(r.ts_us);
    q.subject = r.subject;
    q.kind = r.kind;
    return AnyRow(store_->QueryAudit(q), [&](const AuditRow& x) {
      return x.request_id == r.request_id && x.detail == r.detail;
    });
  }
  static Query AtTime(int64_t ts_us) {
    Query q;
    q.from_us = ts_us;
    q.to_us = ts_us + 1;
    q.limit = 1000;
    return q;
  }
  template <class Rows, class Same>
  static Result<bool> AnyRow(const Result<Rows>& rows, Same same) {
    if (!rows.ok()) return rows.error();
    return std::any_of(rows->begin(), rows->end(), same);
  }

  void Written(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.written += n;
    ++stats_.batches;
    stats_.queued = calls_.size() + audits_.size();
    if (!stats_.last_error.empty()) log::Info("history writes recovered");
    stats_.last_error.clear();
  }

  io::Loop& loop_;
  RecorderOptions opts_;
  RedactOptions redact_, redact_hash_;  // opts_.redact without and with hash_only
  std::unique_ptr<Store> store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingCall> calls_;
  std::deque<AuditRow> audits_;
  std::deque<std::function<void()>> tasks_;
  std::map<std::string, UserRow> users_;  // sightings not yet taken by the writer
  bool stopping_ = false;
  bool writer_waiting_ = false;    // the writer waits on cv_ (see WakeWriter)
  bool writer_gathering_ = false;  // ... for kAsync rows to gather
  RecorderStats stats_;
  int backoff_ms_ = 50;
  // Spool state: only the writer thread touches these (stats_ mirrors them under mu_).
  int spool_fd_ = -1;
  uint64_t spool_size_ = 0;
  uint64_t spool_offset_ = 0;
  bool first_run_checked_ = false;  // ReplaySpool: the first run replayed was checked
  Clock::time_point next_replay_{};
  Clock::time_point next_users_{};  // writer thread only
  int users_backoff_ms_ = 50;
  std::thread thread_;
  // Reader threads (only when the store has ConcurrentReads()) and their queue.
  std::vector<std::thread> readers_;
  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::deque<std::function<void()>> read_tasks_;
  bool readers_stopping_ = false;
};

}  // namespace

Result<std::unique_ptr<Recorder>> StartRecorder(io::Loop& loop, const RecorderOptions& options) {
  auto store = OpenStore(options.dsn);
  if (!store.ok()) return store.error();
  if (Status s = (*store)->Migrate(); !s.ok()) return s.error();
  return StartRecorder(loop, options, std::move(store).value());
}

std::unique_ptr<Recorder> StartRecorder(io::Loop& loop, const RecorderOptions& options,
                                        std::unique_ptr<Store> store) {
  return std::make_unique<RecorderImpl>(loop, options, std::move(store));
}

}  // namespace mcpgw::history
