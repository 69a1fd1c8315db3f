// Typed errors of the Kubernetes client: ApiError carries the server's Status (code, reason, message,
// Retry-After); ConnectionError names an unreachable server or a failed TLS verification.
#pragma once
#include <string>

#include "lib/core/error.h"
#include "lib/core/json.h"

namespace otel::kube {

class ApiError : public otel::Error {
 public:
  // status: the server's Status object (or a synthesized one); code: HTTP status.
  ApiError(int code, std::string reason, std::string message, Json status = Json::object(), int retryAfterSeconds = 0,
           std::string where = {}, std::string hint = {});
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const Json& status() const { return status_; }
  int retryAfterSeconds() const { return retryAfter_; }

  bool isNotFound() const { return reason_ == "NotFound" || (code_ == 404 && reason_.empty()); }
  bool isAlreadyExists() const { return reason_ == "AlreadyExists"; }
  bool isConflict() const { return reason_ == "Conflict"; }
  bool isInvalid() const { return reason_ == "Invalid" || code_ == 422; }
  bool isForbidden() const { return code_ == 403; }
  bool isUnauthorized() const { return code_ == 401; }
  bool isTooManyRequests() const { return code_ == 429; }
  // 410 with reason Expired or Gone (a watch or continue token that is too old): relist.
  bool isExpired() const { return code_ == 410 || reason_ == "Expired" || reason_ == "Gone"; }

 private:
  int code_;
  std::string reason_;
  Json status_;
  int retryAfter_;
};

// The server could not be reached or its certificate could not be verified (no HTTP answer).
class ConnectionError : public otel::Error {
 public:
  enum class Kind { Unreachable, Tls, Timeout, Other };
  ConnectionError(Kind kind, std::string what, std::string where = {}, std::string hint = {})
      : otel::Error(std::move(what), std::move(where), std::move(hint)), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// Builds an ApiError from an HTTP answer (a Status body when the server sent one, else a generic message).
ApiError apiErrorFromResponse(int code, const std::string& body, int retryAfterSeconds, const std::string& where);
// Builds an ApiError from a watch ERROR event's Status object.
ApiError apiErrorFromStatus(const Json& status);

}  // namespace otel::kube
