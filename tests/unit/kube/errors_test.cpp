// Status bodies become ApiErrors; fields of an unexpected type read as absent, never throw.
#include <gtest/gtest.h>

#include "lib/kube/errors.h"

namespace {

TEST(ApiErrors, NullOrMistypedFieldsReadAsAbsent) {
  auto e = otel::kube::apiErrorFromResponse(
      403, R"({"kind":"Status","status":"Failure","message":"admission webhook \"w\" denied the request: no","code":403,"reason":null})",
      0, "");
  EXPECT_EQ(e.code(), 403);
  EXPECT_EQ(e.reason(), "Forbidden");  // from the code, as for an absent reason
  EXPECT_NE(std::string(e.what()).find("denied the request: no"), std::string::npos);
  auto odd = otel::kube::apiErrorFromStatus(otel::Json::parse(R"({"code":"x","message":7,"details":{"retryAfterSeconds":"a"}})"));
  EXPECT_EQ(odd.code(), 0);
  EXPECT_EQ(odd.retryAfterSeconds(), 0);
}

}  // namespace
