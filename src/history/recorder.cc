#include "history/recorder.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/log.h"

namespace mcpgw::history {
namespace {

class RecorderImpl : public Recorder {
 public:
  RecorderImpl(io::Loop& loop, const RecorderOptions& opts, std::unique_ptr<Store> store)
      : loop_(loop), opts_(opts), store_(std::move(store)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~RecorderImpl() override { Stop(); }

  bool Record(ToolCallRow row, std::function<void()> durable) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (calls_.size() + audits_.size() >= opts_.max_queue || stopping_) {
        ++stats_.refused;
        return false;
      }
      calls_.push_back({std::move(row), opts_.durability == Durability::kSync ? durable : nullptr});
      stats_.queued = calls_.size() + audits_.size();
    }
    cv_.notify_one();
    if (opts_.durability == Durability::kAsync && durable) durable();
    return true;
  }

  bool Audit(AuditRow row) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (calls_.size() + audits_.size() >= opts_.max_queue || stopping_) {
        ++stats_.refused;
        return false;
      }
      audits_.push_back(std::move(row));
      stats_.queued = calls_.size() + audits_.size();
    }
    cv_.notify_one();
    return true;
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
  }

  RecorderStats stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  Durability durability() const override { return opts_.durability; }
  bool Accepting() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return !stopping_ && calls_.size() + audits_.size() < opts_.max_queue;
  }

 private:
  struct PendingCall {
    ToolCallRow row;
    std::function<void()> durable;
  };

  void Enqueue(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

  // The writer thread: batches of rows (group commit), queries in between.
  void Run() {
    std::vector<PendingCall> calls;
    std::vector<AuditRow> audits;
    while (true) {
      std::deque<std::function<void()>> tasks;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] {
          return stopping_ || !calls_.empty() || !audits_.empty() || !tasks_.empty() ||
                 !calls.empty() || !audits.empty();
        });
        while (!calls_.empty() && calls.size() < opts_.max_batch) {
          calls.push_back(std::move(calls_.front()));
          calls_.pop_front();
        }
        while (!audits_.empty() && audits.size() < opts_.max_batch) {
          audits.push_back(std::move(audits_.front()));
          audits_.pop_front();
        }
        tasks.swap(tasks_);
        if (stopping_ && calls.empty() && audits.empty() && tasks.empty()) return;
      }
      for (auto& t : tasks) t();
      if (!calls.empty() || !audits.empty()) WriteBatch(calls, audits);
    }
  }

  // Commits tool calls, then audit rows (each its own transaction). What committed is cleared, so
  // a retry never writes a row twice; what failed stays, in order, for the next attempt.
  void WriteBatch(std::vector<PendingCall>& calls, std::vector<AuditRow>& audits) {
    Status st;
    if (!calls.empty()) {
      std::vector<ToolCallRow> rows;
      rows.reserve(calls.size());
      for (auto& c : calls) rows.push_back(c.row);
      st = store_->AppendToolCalls(rows);
      if (st.ok()) {
        std::vector<std::function<void()>> callbacks;
        for (auto& c : calls) {
          if (c.durable) callbacks.push_back(std::move(c.durable));
        }
        Written(calls.size());
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
        log::Error("history write failed; retrying", {{"error", st.error().message}});
      }
      stats_.last_error = st.error().message;
    }
    backoff_ms_ = std::min(backoff_ms_ * 2, 5000);
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms_));
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
  std::unique_ptr<Store> store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingCall> calls_;
  std::deque<AuditRow> audits_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  RecorderStats stats_;
  int backoff_ms_ = 50;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Recorder>> StartRecorder(io::Loop& loop, const RecorderOptions& options) {
  auto store = OpenStore(options.dsn);
  if (!store.ok()) return store.error();
  if (Status s = (*store)->Migrate(); !s.ok()) return s.error();
  return std::unique_ptr<Recorder>(
      std::make_unique<RecorderImpl>(loop, options, std::move(store).value()));
}

}  // namespace mcpgw::history
