// The event loop seam. The gateway runs on one thread: every callback below is invoked on the
// loop's thread, so gateway state needs no locks. Only io/ and http/ know that this is Asio.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"

namespace mcpgw::io {

using TimerId = uint64_t;
using Millis = std::chrono::milliseconds;

// A byte stream to or from a child process (one end of a pipe). Writes are queued and never block.
class Pipe {
 public:
  virtual ~Pipe() = default;
  // Queues bytes for writing (write pipes only). Returns false when the pipe is closed.
  virtual bool Write(std::string data) = 0;
  // Bytes queued but not yet written.
  virtual size_t Pending() const = 0;
  // Closes the pipe; pending writes are dropped and no callback runs afterwards.
  virtual void Close() = 0;
};

class Loop {
 public:
  virtual ~Loop() = default;
  virtual void Post(std::function<void()> fn) = 0;
  // Runs fn after `delay` unless cancelled. Ids are never reused.
  virtual TimerId After(Millis delay, std::function<void()> fn) = 0;
  virtual void Cancel(TimerId id) = 0;
  virtual std::chrono::steady_clock::time_point Now() const = 0;

  // Wraps a pipe fd (the loop takes ownership and closes it). For a read end `on_data` receives
  // bytes and `on_eof` runs once at EOF or error; for a write end pass null callbacks.
  virtual std::unique_ptr<Pipe> WrapPipe(int fd, std::function<void(std::string_view)> on_data,
                                         std::function<void()> on_eof) = 0;

  // Runs fn on the loop thread whenever `signo` arrives (SIGTERM, SIGINT, SIGHUP, SIGCHLD).
  virtual void OnSignal(int signo, std::function<void()> fn) = 0;

  // A hint that another thread will Post() to the loop within `d` (a history commit the response
  // waits for): until then, when it has nothing to do, the loop polls for work instead of
  // sleeping in the kernel, so that the answer is picked up without a wake-up. Costs the loop's
  // CPU while it polls; a later hint extends an earlier one.
  virtual void BusyPollFor(std::chrono::microseconds d) = 0;
  // After every event it handles, the loop polls for the next one this long before it sleeps
  // (0, the default: it sleeps at once). Trades CPU for latency where waking a sleeping thread is
  // dear (virtual machines): the loop's thread spins while traffic flows and sleeps when it stops.
  virtual void SetIdlePoll(std::chrono::microseconds d) = 0;

  // Runs until Stop(). May be called again after it returned (tests and tools run it in steps).
  virtual void Run() = 0;
  virtual void Stop() = 0;
};

std::unique_ptr<Loop> NewLoop();

}  // namespace mcpgw::io
