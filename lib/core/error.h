// otel::Error: thrown at I/O and parsing boundaries, caught once at the verb or reconcile boundary.
#pragma once
#include <stdexcept>
#include <string>

namespace otel {

class Error : public std::runtime_error {
 public:
  // what: the problem in one line; where: file/object/field it concerns ("" if none); hint: how to fix it.
  explicit Error(std::string what, std::string where = {}, std::string hint = {})
      : std::runtime_error(std::move(what)), where_(std::move(where)), hint_(std::move(hint)) {}
  const std::string& where() const { return where_; }
  const std::string& hint() const { return hint_; }
  // "where: what" on one line (the form printed to users).
  std::string oneLine() const {
    std::string s = where_.empty() ? std::string(what()) : where_ + ": " + what();
    for (auto& c : s)
      if (c == '\n') c = ' ';
    return s;
  }

 private:
  std::string where_;
  std::string hint_;
};

}  // namespace otel
