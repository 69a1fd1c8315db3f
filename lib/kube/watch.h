// Watch stream decoding: splits a chunked byte stream into newline-delimited {type, object} events
// (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR). Pure; the transport lives in client.cpp.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "lib/core/error.h"
#include "lib/core/json.h"

namespace otel::kube {

enum class EventType { Added, Modified, Deleted, Bookmark, Error };

const char* eventTypeName(EventType t);

struct WatchEvent {
  EventType type = EventType::Added;
  Json object;  // the object (last state for DELETED), RV-only object for BOOKMARK, Status for ERROR
  std::string resourceVersion() const;
};

// The most one watch event line may have: an object is at most 3 MiB (kube-apiserver's request limit,
// etcd's own is 1.5 MiB), and its JSON in an event a little more. A longer line is never buffered further.
inline constexpr std::size_t kMaxWatchEventBytes = std::size_t{8} << 20;

// Thrown by WatchDecoder for an event longer than its bound: the watch ends and the informer relists.
class WatchEventTooLarge : public otel::Error {
 public:
  using otel::Error::Error;
};

// Incremental decoder: feed arbitrary slices of the stream, get one callback per complete line.
class WatchDecoder {
 public:
  using Sink = std::function<bool(WatchEvent&&)>;  // return false to stop decoding
  explicit WatchDecoder(Sink sink, std::size_t maxEventBytes = kMaxWatchEventBytes)
      : sink_(std::move(sink)), maxEventBytes_(maxEventBytes) {}
  // Returns false when the sink asked to stop. Throws otel::Error on a malformed event line,
  // WatchEventTooLarge as soon as the line being read passes the bound.
  bool feed(std::string_view bytes);
  // Bytes of an incomplete trailing line.
  std::size_t pending() const { return buffer_.size(); }

 private:
  bool emitLine(std::string_view line);
  void tooLarge() const;
  Sink sink_;
  std::size_t maxEventBytes_;
  std::string buffer_;
};

// Decodes one event line. Throws otel::Error when it is not a watch event.
WatchEvent decodeWatchEvent(std::string_view line);

}  // namespace otel::kube
