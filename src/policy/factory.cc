// Kept apart from decider.cc so that code using one backend links without the other.
#include "policy/decider.h"

namespace mcpgw::policy {

std::unique_ptr<Decider> NewDecider(io::Loop& loop, http::Client& client,
                                    const config::PolicyConfig& config) {
  switch (config.mode) {
    case config::PolicyConfig::Mode::kEmbedded:
      return NewEmbeddedDecider(loop, config);
    case config::PolicyConfig::Mode::kOpa:
      return NewOpaDecider(loop, client, config);
    default:
      return nullptr;
  }
}

}  // namespace mcpgw::policy
