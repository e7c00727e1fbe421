#include "policy/decider.h"

#include <memory>

#include "common/random.h"
#include "policy/input.h"

namespace mcpgw::policy {

void Decider::DecideMany(const rego::Value& base, std::vector<rego::Value> items, DoneMany done) {
  struct State {
    std::vector<Decision> out;
    size_t remaining = 0;
    DoneMany done;
  };
  if (items.empty()) return done({});
  auto st = std::make_shared<State>();
  st->out.resize(items.size());
  st->remaining = items.size();
  st->done = std::move(done);
  for (size_t i = 0; i < items.size(); ++i) {
    Decide(WithItem(base, items[i]), [st, i](Decision d) {
      st->out[i] = std::move(d);
      if (--st->remaining == 0) st->done(std::move(st->out));
    });
  }
}

std::string NewDecisionId() { return RandomHex(16); }

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

std::vector<std::string> ReasonStrings(const rego::Value& reasons) {
  std::vector<std::string> out;
  auto add = [&](const rego::Value& v) {
    if (v.is_string()) out.push_back(v.str());
  };
  if (reasons.is_set()) {
    for (const auto& v : reasons.set()) add(v);
  } else if (reasons.is_array()) {
    for (const auto& v : reasons.array()) add(v);
  } else if (reasons.is_string()) {
    add(reasons);
  }
  return out;
}

}  // namespace mcpgw::policy
