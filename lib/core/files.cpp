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

namespace {

[[noreturn]] void tooLarge(const std::string& where, size_t maxBytes) {
  throw YamlLimitError("the input has more than " + std::to_string(maxBytes >> 20) + " MiB (" +
                           std::to_string(maxBytes) + " bytes), the most kubectl-otel reads from one file",
                       where);
}

// Reads at most maxBytes + 1 bytes, refusing more.
std::string readBounded(std::istream& in, const std::string& where, size_t maxBytes, size_t expected = 0) {
  std::string out;
  out.reserve(expected);
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    std::streamsize got = in.gcount();
    if (got <= 0) break;
    if (out.size() + static_cast<size_t>(got) > maxBytes) tooLarge(where, maxBytes);
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

}  // namespace

std::string readFile(const std::string& path, size_t maxBytes) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error("is a directory, expected a file", path);
  auto size = fs::is_regular_file(path, ec) ? fs::file_size(path, ec) : static_cast<uintmax_t>(0);
  if (!ec && size > maxBytes) tooLarge(path, maxBytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read file: " + std::string(std::strerror(errno)), path);
  std::string out = readBounded(in, path, maxBytes, static_cast<size_t>(size));
  if (in.bad()) throw Error("cannot read file", path);
  return out;
}

std::string readStdin(size_t maxBytes) { return readBounded(std::cin, "<stdin>", maxBytes); }

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
