// Loads policy files the way OPA's loader does, for `mcpgw policy test|eval`, the embedded PDP and
// `mcpgw pdp`:
//   - `.rego` files become modules;
//   - `.json` (and `.yaml`/`.yml`) files become data, merged into the base document at the path of
//     the directory that holds them, relative to the root argument they were found under
//     (root/a/b/data.json -> data.a.b); a file given directly is merged at the root;
//   - directories are walked recursively in name order; hidden entries are skipped;
//   - two files setting the same data path to different non-object values is an error naming both.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "rego/engine.h"
#include "rego/value.h"

namespace mcpgw::rego {

struct LoadedFiles {
  std::vector<ModuleSource> modules;
  Value data = Value::EmptyObject();
  std::vector<std::string> files;  // every file read, for change detection
};

Result<LoadedFiles> LoadPaths(const std::vector<std::string>& paths);

}  // namespace mcpgw::rego
