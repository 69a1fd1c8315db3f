#include "lib/kube/watch.h"

#include "lib/core/error.h"

namespace otel::kube {

const char* eventTypeName(EventType t) {
  switch (t) {
    case EventType::Added: return "ADDED";
    case EventType::Modified: return "MODIFIED";
    case EventType::Deleted: return "DELETED";
    case EventType::Bookmark: return "BOOKMARK";
    case EventType::Error: return "ERROR";
  }
  return "?";
}

std::string WatchEvent::resourceVersion() const {
  if (!object.is_object()) return {};
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return {};
  auto rv = m->find("resourceVersion");
  return rv != m->end() && rv->is_string() ? rv->get<std::string>() : std::string();
}

WatchEvent decodeWatchEvent(std::string_view line) {
  Json j = Json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw otel::Error("malformed watch event: not a JSON object", "watch stream");
  auto t = j.find("type");
  if (t == j.end() || !t->is_string()) throw otel::Error("malformed watch event: no type", "watch stream");
  const std::string& ts = t->get_ref<const std::string&>();
  WatchEvent ev;
  if (ts == "ADDED") ev.type = EventType::Added;
  else if (ts == "MODIFIED") ev.type = EventType::Modified;
  else if (ts == "DELETED") ev.type = EventType::Deleted;
  else if (ts == "BOOKMARK") ev.type = EventType::Bookmark;
  else if (ts == "ERROR") ev.type = EventType::Error;
  else throw otel::Error("malformed watch event: unknown type \"" + ts + "\"", "watch stream");
  auto o = j.find("object");
  if (o != j.end()) ev.object = std::move(*o);
  return ev;
}

bool WatchDecoder::emitLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return true;
  return sink_(decodeWatchEvent(line));
}

void WatchDecoder::tooLarge() const {
  throw WatchEventTooLarge("a watch event is larger than " + std::to_string(maxEventBytes_) +
                               " bytes; the watch is closed and the cache relisted",
                           "watch stream");
}

bool WatchDecoder::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    auto nl = bytes.find('\n');
    size_t lineBytes = buffer_.size() + (nl == std::string_view::npos ? bytes.size() : nl);
    if (lineBytes > maxEventBytes_) {
      buffer_.clear();
      buffer_.shrink_to_fit();
      tooLarge();
    }
    if (nl == std::string_view::npos) {
      buffer_.append(bytes);
      return true;
    }
    bool more;
    if (buffer_.empty()) {
      more = emitLine(bytes.substr(0, nl));
    } else {
      buffer_.append(bytes.substr(0, nl));
      std::string line;
      line.swap(buffer_);
      more = emitLine(line);
    }
    bytes.remove_prefix(nl + 1);
    if (!more) return false;
  }
  return true;
}

}  // namespace otel::kube
