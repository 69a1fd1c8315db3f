#include "lib/core/files.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "lib/core/error.h"

namespace otel {
namespace fs = std::filesystem;

std::string readFile(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error("is a directory, expected a file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read file: " + std::string(std::strerror(errno)), path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error("cannot read file", path);
  return ss.str();
}

std::string readStdin() {
  std::ostringstream ss;
  ss << std::cin.rdbuf();
  return ss.str();
}

static bool isManifestFile(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

std::vector<std::string> expandManifestPaths(const std::vector<std::string>& paths, bool recursive) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    if (p == "-") {
      out.push_back(p);
      continue;
    }
    std::error_code ec;
    if (!fs::exists(p, ec)) throw Error("the path does not exist", p);
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> files;
      if (recursive) {
        for (const auto& e : fs::recursive_directory_iterator(p))
          if (e.is_regular_file() && isManifestFile(e.path())) files.push_back(e.path().string());
      } else {
        for (const auto& e : fs::directory_iterator(p))
          if (e.is_regular_file() && isManifestFile(e.path())) files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
      out.insert(out.end(), files.begin(), files.end());
    } else {
      out.push_back(p);
    }
  }
  return out;
}

std::vector<YamlDocument> readManifests(const std::vector<std::string>& paths, bool recursive) {
  std::vector<YamlDocument> all;
  for (const auto& p : expandManifestPaths(paths, recursive)) {
    std::string text = p == "-" ? readStdin() : readFile(p);
    auto docs = flattenLists(parseYamlStream(text, p == "-" ? "<stdin>" : p));
    all.insert(all.end(), std::make_move_iterator(docs.begin()), std::make_move_iterator(docs.end()));
  }
  return all;
}

void writeFileAtomic(const std::string& path, const std::string& content) {
  fs::path target(path);
  fs::path tmp = target;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write file: " + std::string(std::strerror(errno)), path);
    out << content;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error("cannot write file", path);
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("cannot replace file: " + ec.message(), path);
  }
}

}  // namespace otel
