#include "lib/kube/errors.h"

namespace otel::kube {

ApiError::ApiError(int code, std::string reason, std::string message, Json status, int retryAfterSeconds,
                   std::string where, std::string hint)
    : otel::Error(std::move(message), std::move(where), std::move(hint)),
      code_(code),
      reason_(std::move(reason)),
      status_(std::move(status)),
      retryAfter_(retryAfterSeconds) {}

namespace {

std::string defaultReason(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "";
  }
}

}  // namespace

ApiError apiErrorFromStatus(const Json& status) {
  // a field of another type (e.g. "reason": null) reads as absent: an error answer must never throw here
  auto text = [&](const char* k) {
    auto it = status.find(k);
    return it != status.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto it = status.find("code");
  int code = it != status.end() && it->is_number_integer() ? it->get<int>() : 0;
  std::string reason = text("reason");
  if (reason.empty()) reason = defaultReason(code);
  std::string message = text("message");
  int retry = 0;
  if (status.contains("details") && status["details"].is_object())
    if (auto r = status["details"].find("retryAfterSeconds"); r != status["details"].end() && r->is_number_integer())
      retry = r->get<int>();
  if (message.empty()) message = "the server reported " + (reason.empty() ? std::to_string(code) : reason);
  std::string hint;
  if (code == 401) {
    message = "You must be logged in to the server (401 Unauthorized: the server rejected the credentials)";
    hint = "check the token, client certificate or exec plugin of the kubeconfig user";
  } else if (code == 403) {
    hint = "the user lacks RBAC permission for this request";
  }
  return ApiError(code, reason, message, status, retry, "", hint);
}

ApiError apiErrorFromResponse(int code, const std::string& body, int retryAfterSeconds, const std::string& where) {
  Json j = Json::parse(body, nullptr, false);
  Json status;
  if (!j.is_discarded() && j.is_object() && j.value("kind", "") == "Status") {
    status = j;
    if (!status.contains("code")) status["code"] = code;
  } else {
    std::string text = body.size() > 200 ? body.substr(0, 200) + "..." : body;
    for (auto& c : text)
      if (c == '\n' || c == '\r') c = ' ';
    status = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"}, {"code", code},
              {"reason", defaultReason(code)},
              {"message", text.empty() ? "the server responded with HTTP " + std::to_string(code) : text}};
  }
  status["code"] = code;
  ApiError base = apiErrorFromStatus(status);
  int retry = retryAfterSeconds > 0 ? retryAfterSeconds : base.retryAfterSeconds();
  return ApiError(code, base.reason(), base.what(), status, retry, where, base.hint());
}

}  // namespace otel::kube
