// Suggestions for mistyped subcommands (app/usage.h).
#include <gtest/gtest.h>

#include "app/usage.h"

namespace sngan {
namespace {

TEST(Usage, ClosestWordSuggestsLikelyTyposOnly) {
  const std::vector<std::string> commands{"train", "sample", "bench"};
  EXPECT_EQ(closest_word("trian", commands), "train");
  EXPECT_EQ(closest_word("smaple", commands), "sample");
  EXPECT_EQ(closest_word("bnech", commands), "bench");
  EXPECT_EQ(closest_word("tra", commands), "train");  // a prefix
  EXPECT_EQ(closest_word("evaluate", commands), "");
  EXPECT_EQ(closest_word("", commands), "");
}

}  // namespace
}  // namespace sngan
