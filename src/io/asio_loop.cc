#include "io/asio_loop.h"

#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <map>
#include <unordered_map>

#include "common/log.h"

namespace mcpgw::io {
namespace asio = boost::asio;

namespace {

class AsioPipe : public Pipe, public std::enable_shared_from_this<AsioPipe> {
 public:
  AsioPipe(asio::io_context& ctx, int fd) : sd_(ctx, fd) {}

  void StartReading(std::function<void(std::string_view)> on_data, std::function<void()> on_eof) {
    on_data_ = std::move(on_data);
    on_eof_ = std::move(on_eof);
    ReadMore();
  }

  bool Write(std::string data) override {
    if (closed_) return false;
    pending_bytes_ += data.size();
    queue_.push_back(std::move(data));
    if (queue_.size() == 1) WriteNext();
    return true;
  }

  size_t Pending() const override { return pending_bytes_; }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    on_data_ = nullptr;
    on_eof_ = nullptr;
    queue_.clear();
    pending_bytes_ = 0;
    boost::system::error_code ec;
    sd_.cancel(ec);
    sd_.close(ec);
  }

 private:
  void ReadMore() {
    auto self = shared_from_this();
    sd_.async_read_some(asio::buffer(buf_), [self](boost::system::error_code ec, size_t n) {
      if (self->closed_) return;
      if (n > 0 && self->on_data_) self->on_data_(std::string_view(self->buf_, n));
      if (self->closed_) return;
      if (ec) {
        auto eof = std::move(self->on_eof_);
        self->on_data_ = nullptr;
        if (eof) eof();
        return;
      }
      self->ReadMore();
    });
  }

  void WriteNext() {
    auto self = shared_from_this();
    asio::async_write(sd_, asio::buffer(queue_.front()),
                      [self](boost::system::error_code ec, size_t) {
                        if (self->closed_) return;
                        self->pending_bytes_ -= self->queue_.front().size();
                        self->queue_.pop_front();
                        if (ec) {
                          self->queue_.clear();
                          self->pending_bytes_ = 0;
                          return;  // the reader side reports the failure (EOF)
                        }
                        if (!self->queue_.empty()) self->WriteNext();
                      });
  }

  asio::posix::stream_descriptor sd_;
  char buf_[65536];
  std::function<void(std::string_view)> on_data_;
  std::function<void()> on_eof_;
  std::deque<std::string> queue_;
  size_t pending_bytes_ = 0;
  bool closed_ = false;
};

// The Pipe handed out owns the shared AsioPipe and closes it when destroyed.
class PipeHandle : public Pipe {
 public:
  explicit PipeHandle(std::shared_ptr<AsioPipe> p) : p_(std::move(p)) {}
  ~PipeHandle() override { p_->Close(); }
  bool Write(std::string data) override { return p_->Write(std::move(data)); }
  size_t Pending() const override { return p_->Pending(); }
  void Close() override { p_->Close(); }

 private:
  std::shared_ptr<AsioPipe> p_;
};

class AsioLoop : public Loop {
 public:
  AsioLoop() : signals_(ctx_) {}

  void Post(std::function<void()> fn) override { asio::post(ctx_, std::move(fn)); }

  TimerId After(Millis delay, std::function<void()> fn) override {
    TimerId id = ++next_timer_;
    auto timer = std::make_unique<asio::steady_timer>(ctx_, delay);
    timer->async_wait([this, id, fn = std::move(fn)](boost::system::error_code ec) {
      // A cancelled timer is freed here, once its aborted handler has run (asio needs the timer
      // object until then); destroying it inside its own handler is allowed.
      if (cancelled_.erase(id) > 0) return;
      auto it = timers_.find(id);
      if (it == timers_.end()) return;
      timers_.erase(it);
      if (!ec) fn();
    });
    timers_.emplace(id, std::move(timer));
    return id;
  }

  void Cancel(TimerId id) override {
    auto node = timers_.extract(id);
    if (node.empty()) return;
    // The handler runs later (with operation_aborted, or with success if the timer had already
    // expired) and frees the timer without calling the function. Kept in cancelled_ rather than
    // handed to a posted deleter, which leaked when the loop stopped before running it.
    node.mapped()->cancel();
    cancelled_.insert(std::move(node));
  }

  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::now();
  }

  std::unique_ptr<Pipe> WrapPipe(int fd, std::function<void(std::string_view)> on_data,
                                 std::function<void()> on_eof) override {
    auto p = std::make_shared<AsioPipe>(ctx_, fd);
    if (on_data || on_eof) p->StartReading(std::move(on_data), std::move(on_eof));
    return std::make_unique<PipeHandle>(std::move(p));
  }

  void OnSignal(int signo, std::function<void()> fn) override {
    boost::system::error_code ec;
    signals_.add(signo, ec);
    if (ec) log::Warn("cannot watch signal", {{"signal", signo}, {"error", ec.message()}});
    handlers_[signo] = std::move(fn);
    if (!waiting_) WaitSignal();
  }

  void Run() override {
    ctx_.restart();  // a loop that was stopped before runs again (asio needs this after stop())
    auto guard = asio::make_work_guard(ctx_);
    work_ = &guard;
    // ctx_.run(), except that while a busy-poll hint holds (BusyPollFor, SetIdlePoll) an idle
    // loop polls.
    while (!ctx_.stopped()) {
      size_t handled =
          spin_until_ > std::chrono::steady_clock::now() ? ctx_.poll() : ctx_.run_one();
      if (handled > 0 && idle_poll_.count() > 0) BusyPollFor(idle_poll_);
    }
    work_ = nullptr;
  }

  void Stop() override { ctx_.stop(); }

  void BusyPollFor(std::chrono::microseconds d) override {
    spin_until_ = std::max(spin_until_, std::chrono::steady_clock::now() + d);
  }

  void SetIdlePoll(std::chrono::microseconds d) override { idle_poll_ = d; }

  asio::io_context& ctx() { return ctx_; }

 private:
  void WaitSignal() {
    waiting_ = true;
    signals_.async_wait([this](boost::system::error_code ec, int signo) {
      if (ec) return;
      auto it = handlers_.find(signo);
      if (it != handlers_.end()) it->second();
      WaitSignal();
    });
  }

  asio::io_context ctx_;
  asio::signal_set signals_;
  bool waiting_ = false;
  std::map<int, std::function<void()>> handlers_;
  std::unordered_map<TimerId, std::unique_ptr<asio::steady_timer>> timers_;
  std::unordered_map<TimerId, std::unique_ptr<asio::steady_timer>> cancelled_;  // see Cancel
  TimerId next_timer_ = 0;
  void* work_ = nullptr;
  std::chrono::steady_clock::time_point spin_until_{};
  std::chrono::microseconds idle_poll_{0};
};

}  // namespace

std::unique_ptr<Loop> NewLoop() { return std::make_unique<AsioLoop>(); }

asio::io_context& IoContextOf(Loop& loop) { return static_cast<AsioLoop&>(loop).ctx(); }

}  // namespace mcpgw::io
