// Watch stream decoding: splits a chunked byte stream into newline-delimited {type, object} events
// (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR). Pure; the transport lives in client.cpp.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "lib/core/json.h"

namespace otel::kube {

enum class EventType { Added, Modified, Deleted, Bookmark, Error };

const char* eventTypeName(EventType t);

struct WatchEvent {
  EventType type = EventType::Added;
  Json object;  // the object (last state for DELETED), RV-only object for BOOKMARK, Status for ERROR
  std::string resourceVersion() const;
};

// Incremental decoder: feed arbitrary slices of the stream, get one callback per complete line.
class WatchDecoder {
 public:
  using Sink = std::function<bool(WatchEvent&&)>;  // return false to stop decoding
  explicit WatchDecoder(Sink sink) : sink_(std::move(sink)) {}
  // Returns false when the sink asked to stop. Throws otel::Error on a malformed event line.
  bool feed(std::string_view bytes);
  // Bytes of an incomplete trailing line.
  std::size_t pending() const { return buffer_.size(); }

 private:
  bool emitLine(std::string_view line);
  Sink sink_;
  std::string buffer_;
};

// Decodes one event line. Throws otel::Error when it is not a watch event.
WatchEvent decodeWatchEvent(std::string_view line);

}  // namespace otel::kube
