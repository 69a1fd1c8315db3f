// allocations --simulate engine: collector specs, churn accounting, JSON report shape.
#include "lib/allocation/simulate.h"

#include <gtest/gtest.h>

#include "lib/core/error.h"

namespace otel::allocation {
namespace {

TEST(Simulate, CollectorSpec) {
  auto three = parseCollectorSpec("3");
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[2].name, "collector-2");
  auto named = parseCollectorSpec("a,b");
  EXPECT_EQ(named[1].name, "b");
  EXPECT_THROW(parseCollectorSpec("0"), Error);
  EXPECT_THROW(parseCollectorSpec("a,,b"), Error);
  EXPECT_THROW(parseCollectorSpec("a,a"), Error);
}

TEST(Simulate, ChurnSideBySide) {
  SimulationInput in;
  in.targets = generateTargets(10000, 0, "gen");
  in.jobNames = {"gen"};
  in.collectors = parseCollectorSpec("3");
  in.addCollectors = {"collector-3"};
  auto r = simulate(in);
  ASSERT_EQ(r.strategies.size(), allStrategies().size());
  for (const auto& s : r.strategies) {
    std::size_t sum = s.before.unassigned;
    for (const auto& [n, c] : s.before.counts) sum += c;
    EXPECT_EQ(sum, 10000u) << strategyName(s.strategy);
    ASSERT_TRUE(s.after.has_value());
    if (s.strategy != Strategy::PerNode) {  // per-node assigned nothing
      EXPECT_NEAR(s.idealMoved, 2500, 1);
    }
  }
  const auto& rv = r.strategies[3];
  ASSERT_EQ(rv.strategy, Strategy::Rendezvous);
  EXPECT_LE(rv.moved, 2750u);  // at most 1.1x the ideal share (a function of the sets: not exactly the ideal)
  EXPECT_LE(rv.after->spread, 1.15);
  const auto& lw = r.strategies[1];
  EXPECT_EQ(lw.moved, 0u);  // least-weighted never rebalances on join
  EXPECT_EQ(r.strategies[2].before.unassigned, 10000u);  // per-node: static targets have no node
  auto text = renderSimulation(r);
  EXPECT_NE(text.find("rendezvous"), std::string::npos);
  EXPECT_NE(text.find("MOVED"), std::string::npos);
  // the table's columns: STRATEGY 20 wide, SPREAD 8 and UNASSIGNED 12 right-aligned
  EXPECT_NE(text.find("\nSTRATEGY              SPREAD  UNASSIGNED  SPREAD'   MOVED"), std::string::npos) << text;
  Json j = simulationJson(r, in, true);
  EXPECT_EQ(j["strategies"][0]["strategy"], "consistent-hashing");
  EXPECT_EQ(j["strategies"][0]["assignments"].size(), 10000u);
  EXPECT_TRUE(j["strategies"][0]["assignments"][0].contains("collector"));
  EXPECT_EQ(j["collectorsAfter"].size(), 4u);
}

TEST(Simulate, RemoveUnknownCollectorFails) {
  SimulationInput in;
  in.collectors = parseCollectorSpec("2");
  in.removeCollectors = {"nope"};
  EXPECT_THROW(simulate(in), Error);
}

}  // namespace
}  // namespace otel::allocation
