#include "lib/inject/undo.h"

#include <set>
#include <string>
#include <vector>

namespace otel::inject {
namespace {

// The key that identifies the elements of a list, or "" when the list is treated as one value.
std::string listKey(const Json& a) {
  if (!a.is_array() || a.empty()) return "";
  for (const char* key : {"name", "mountPath"}) {
    std::set<std::string> seen;
    bool ok = true;
    for (const auto& e : a) {
      if (!e.is_object()) return "";
      auto it = e.find(key);
      if (it == e.end() || !it->is_string() || !seen.insert(it->get<std::string>()).second) {
        ok = false;
        break;
      }
    }
    if (ok) return key;
  }
  return "";
}

bool sameKeyFits(const Json& list, const std::string& key) {
  if (!list.is_array()) return false;
  std::set<std::string> seen;
  for (const auto& e : list) {
    if (!e.is_object()) return false;
    auto it = e.find(key);
    if (it == e.end() || !it->is_string() || !seen.insert(it->get<std::string>()).second) return false;
  }
  return true;
}

int findElement(const Json& list, const std::string& key, const std::string& id) {
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& e = list[i];
    if (e.is_object()) {
      auto it = e.find(key);
      if (it != e.end() && it->is_string() && it->get<std::string>() == id) return static_cast<int>(i);
    }
  }
  return -1;
}

void diff(const Json& before, const Json& after, Json& path, Json& ops) {
  if (before == after) return;
  if (before.is_object() && after.is_object()) {
    std::vector<std::string> beforeKeys;
    bool removedAny = false;
    for (auto it = before.begin(); it != before.end(); ++it) {
      beforeKeys.push_back(it.key());
      path.push_back(it.key());
      auto other = after.find(it.key());
      if (other == after.end()) {
        ops.push_back(Json{{"op", "set"}, {"path", path}, {"value", *it}});
        removedAny = true;
      } else {
        diff(*it, *other, path, ops);
      }
      path.erase(path.size() - 1);
    }
    for (auto it = after.begin(); it != after.end(); ++it) {
      if (!before.contains(it.key())) {
        path.push_back(it.key());
        ops.push_back(Json{{"op", "remove"}, {"path", path}});
        path.erase(path.size() - 1);
      }
    }
    if (removedAny) ops.push_back(Json{{"op", "order"}, {"path", path}, {"keys", beforeKeys}});
    return;
  }
  if (before.is_array() && after.is_array()) {
    std::string key = listKey(before);
    if (key.empty() && before.empty() && !after.empty()) key = listKey(after);
    if (!key.empty() && sameKeyFits(after, key)) {
      std::vector<std::string> beforeIds;
      for (const auto& e : before) beforeIds.push_back(e[key].get<std::string>());
      std::set<std::string> beforeSet(beforeIds.begin(), beforeIds.end());
      std::vector<std::string> keptOrder;  // after's order, without added elements
      for (const auto& e : after) {
        std::string id = e[key].get<std::string>();
        if (!beforeSet.count(id)) {
          path.push_back(Json{{key, id}});
          ops.push_back(Json{{"op", "remove"}, {"path", path}});
          path.erase(path.size() - 1);
        } else {
          keptOrder.push_back(id);
        }
      }
      for (const auto& e : before) {
        std::string id = e[key].get<std::string>();
        path.push_back(Json{{key, id}});
        int idx = findElement(after, key, id);
        if (idx < 0) {
          ops.push_back(Json{{"op", "set"}, {"path", path}, {"value", e}});
        } else {
          diff(e, after[static_cast<size_t>(idx)], path, ops);
        }
        path.erase(path.size() - 1);
      }
      if (keptOrder != beforeIds) ops.push_back(Json{{"op", "order"}, {"path", path}, {"keys", beforeIds}});
      return;
    }
  }
  ops.push_back(Json{{"op", "set"}, {"path", path}, {"value", before}});
}

// Resolves the parent of the last path segment; nullptr when missing.
Json* resolve(Json& doc, const Json& path, size_t count) {
  Json* cur = &doc;
  for (size_t i = 0; i < count; ++i) {
    const Json& seg = path[i];
    if (seg.is_string()) {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(seg.get<std::string>());
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (seg.is_object() && seg.size() == 1) {
      if (!cur->is_array()) return nullptr;
      int idx = findElement(*cur, seg.begin().key(), seg.begin()->get<std::string>());
      if (idx < 0) return nullptr;
      cur = &(*cur)[static_cast<size_t>(idx)];
    } else {
      return nullptr;
    }
  }
  return cur;
}

}  // namespace

Json makeUndo(const Json& before, const Json& after) {
  Json ops = Json::array();
  Json path = Json::array();
  diff(before, after, path, ops);
  return ops;
}

void applyUndo(Json& doc, const Json& undo) {
  if (!undo.is_array()) return;
  for (const auto& op : undo) {
    if (!op.is_object() || !op.contains("path") || !op["path"].is_array()) continue;
    const Json& path = op["path"];
    const std::string kind = op.value("op", "");
    if (path.empty()) {
      if (kind == "set") doc = op["value"];
      continue;
    }
    if (kind == "order") {
      Json* target = resolve(doc, path, path.size());
      if (!target) continue;
      const Json& keys = op["keys"];
      if (target->is_object()) {
        Json reordered = Json::object();
        for (const auto& k : keys)
          if (target->contains(k.get<std::string>())) reordered[k.get<std::string>()] = (*target)[k.get<std::string>()];
        for (auto it = target->begin(); it != target->end(); ++it)
          if (!reordered.contains(it.key())) reordered[it.key()] = *it;
        *target = std::move(reordered);
      } else if (target->is_array()) {
        std::string key = listKey(*target);
        if (key.empty()) continue;
        Json reordered = Json::array();
        std::vector<bool> used(target->size(), false);
        for (const auto& k : keys) {
          int idx = findElement(*target, key, k.get<std::string>());
          if (idx >= 0 && !used[static_cast<size_t>(idx)]) {
            reordered.push_back((*target)[static_cast<size_t>(idx)]);
            used[static_cast<size_t>(idx)] = true;
          }
        }
        for (size_t i = 0; i < target->size(); ++i)
          if (!used[i]) reordered.push_back((*target)[i]);
        *target = std::move(reordered);
      }
      continue;
    }
    Json* parent = resolve(doc, path, path.size() - 1);
    if (!parent) continue;
    const Json& last = path.back();
    if (last.is_string()) {
      if (!parent->is_object()) continue;
      if (kind == "remove")
        parent->erase(last.get<std::string>());
      else if (kind == "set")
        (*parent)[last.get<std::string>()] = op["value"];
    } else if (last.is_object() && last.size() == 1 && parent->is_array()) {
      const std::string key = last.begin().key();
      const std::string id = last.begin()->get<std::string>();
      int idx = findElement(*parent, key, id);
      if (kind == "remove") {
        if (idx >= 0) parent->erase(static_cast<size_t>(idx));
      } else if (kind == "set") {
        if (idx >= 0)
          (*parent)[static_cast<size_t>(idx)] = op["value"];
        else
          parent->push_back(op["value"]);
      }
    }
  }
}

}  // namespace otel::inject
