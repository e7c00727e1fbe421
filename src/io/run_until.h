// Test support: runs a loop until a condition holds (checked every 2 ms) or a deadline passes;
// returns whether it holds.
#pragma once

#include <chrono>
#include <functional>

#include "io/loop.h"

namespace mcpgw::io {

inline bool RunUntil(Loop& loop, const std::function<bool()>& done,
                     std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
  auto deadline = loop.Now() + timeout;
  std::function<void()> poll = [&] {
    if (done() || loop.Now() > deadline) return loop.Stop();
    loop.After(Millis(2), poll);
  };
  loop.Post(poll);
  loop.Run();
  return done();
}

}  // namespace mcpgw::io
