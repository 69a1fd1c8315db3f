// Registering the webhooks by URL (run --webhook-host) and undoing it: every clientConfig pointed at the
// host with our CA, the originals kept in an annotation, restored exactly, and a second registration (after
// a crash) keeping the first originals.
#include "lib/webhook/registration.h"

#include <gtest/gtest.h>

#include "lib/manifests/install.h"

namespace otel::webhook {
namespace {

Json installed(const std::string& kind) {
  for (const auto& o : manifests::installObjects({}))
    if (o.value("kind", "") == kind &&
        (kind != "CustomResourceDefinition" || o["metadata"]["name"] == "opentelemetrycollectors.opentelemetry.io"))
      return o;
  return Json();
}

TEST(Registration, PointsEveryWebhookAtTheHostAndRestoresThem) {
  for (const char* kind : {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}) {
    Json cfg = installed(kind);
    ASSERT_FALSE(cfg.is_null()) << kind;
    const Json original = cfg;
    ASSERT_TRUE(registerByUrl(cfg, "https://10.0.0.5:9443", "Q0E="));
    for (const auto& w : cfg["webhooks"]) {
      ASSERT_TRUE(w["clientConfig"].contains("url")) << w.dump();
      EXPECT_FALSE(w["clientConfig"].contains("service"));
      EXPECT_EQ(w["clientConfig"]["caBundle"], "Q0E=");
      EXPECT_EQ(w["clientConfig"]["url"].get<std::string>().rfind("https://10.0.0.5:9443/", 0), 0u);
    }
    // each webhook keeps its own path
    for (size_t i = 0; i < cfg["webhooks"].size(); ++i)
      EXPECT_EQ(cfg["webhooks"][i]["clientConfig"]["url"],
                "https://10.0.0.5:9443" + original["webhooks"][i]["clientConfig"]["service"]["path"].get<std::string>());
    EXPECT_FALSE(registerByUrl(cfg, "https://10.0.0.5:9443", "Q0E="));  // again: nothing to change
    ASSERT_TRUE(restoreRegistration(cfg));
    EXPECT_EQ(Json::parse(cfg.dump()), Json::parse(original.dump())) << kind;
    EXPECT_FALSE(restoreRegistration(cfg));
  }
}

TEST(Registration, TheCrdConversionWebhookToo) {
  Json crd = installed("CustomResourceDefinition");
  const Json original = crd;
  ASSERT_TRUE(registerByUrl(crd, "https://127.0.0.1:9443", "Q0E="));
  EXPECT_EQ(crd["spec"]["conversion"]["webhook"]["clientConfig"], Json::parse(R"({"url":"https://127.0.0.1:9443/convert","caBundle":"Q0E="})"));
  EXPECT_EQ(crd["spec"]["conversion"]["webhook"]["conversionReviewVersions"], original["spec"]["conversion"]["webhook"]["conversionReviewVersions"]);
  ASSERT_TRUE(restoreRegistration(crd));
  EXPECT_EQ(Json::parse(crd.dump()), Json::parse(original.dump()));
  Json none = Json::parse(R"({"kind":"CustomResourceDefinition","metadata":{"name":"x"},"spec":{"conversion":{"strategy":"None"}}})");
  EXPECT_FALSE(registerByUrl(none, "https://h:1", "Q0E="));
  EXPECT_FALSE(none["metadata"].contains("annotations"));
}

TEST(Registration, ARegistrationLeftByACrashKeepsTheFirstOriginals) {
  Json cfg = installed("MutatingWebhookConfiguration");
  const Json original = cfg;
  registerByUrl(cfg, "https://old-host:9443", "T0xE");
  // the next run registers its own host and CA; restoring gives the service references back, not old-host
  EXPECT_TRUE(registerByUrl(cfg, "https://new-host:9443", "TkVX"));
  EXPECT_EQ(cfg["webhooks"][0]["clientConfig"]["url"].get<std::string>().rfind("https://new-host:9443/", 0), 0u);
  ASSERT_TRUE(restoreRegistration(cfg));
  EXPECT_EQ(Json::parse(cfg.dump()), Json::parse(original.dump()));
}

TEST(Registration, UserAnnotationsSurvive) {
  Json cfg = installed("ValidatingWebhookConfiguration");
  cfg["metadata"]["annotations"]["team"] = "a";
  registerByUrl(cfg, "https://h:9443", "Q0E=");
  restoreRegistration(cfg);
  EXPECT_EQ(cfg["metadata"]["annotations"], Json::parse(R"({"team":"a"})"));
}

}  // namespace
}  // namespace otel::webhook
