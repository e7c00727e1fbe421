// A directory of its own under the system's temporary directory, removed with everything in it
// when the object goes away (tests that need files on disk).
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace mcpgw {

class TempDir {
 public:
  // `prefix` names the directory ("<tmp>/<prefix>XXXXXX") so that a leftover can be told apart.
  explicit TempDir(std::string_view prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / prefix).string() + "XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {  // no test can run without it
      std::perror(tmpl.c_str());
      std::abort();
    }
    root_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The directory itself, or `rel` below it.
  std::string Path(const std::string& rel = "") const {
    return rel.empty() ? root_.string() : (root_ / rel).string();
  }
  // Writes `text` to `rel` (creating the directories on the way); returns its path.
  std::string Write(const std::string& rel, const std::string& text) const {
    std::filesystem::path p = root_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  std::filesystem::path root_;
};

}  // namespace mcpgw
