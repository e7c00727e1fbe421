// Small string helpers shared by modules.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpgw {

// The items with `sep` between them ("a", "b" -> "a<sep>b"; none -> ""). A separator goes in only
// once the output is not empty, so leading empty items leave no separator behind.
inline std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

// Hash for unordered containers keyed by std::string that are looked up by std::string_view
// without building a string: std::unordered_map<std::string, T, StringHash, std::equal_to<>>.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace mcpgw
