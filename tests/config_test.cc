// Config: YAML recipes, command-line overrides, typed reads and the errors that name the key.
#include <gtest/gtest.h>

#include "seq2seq/config.h"
#include "seq2seq/error.h"

namespace s2s {
namespace {

constexpr const char* kRecipe = R"(model:
  hidden: 512
  layers: 2
  tied: true
train:
  lr: 0.001
  optimizer: adam
  devices: [0, 1]
)";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no ConfigError";
}

TEST(Config, TypedReadsWithFallbacks) {
  const Config c = Config::from_yaml_string(kRecipe, "recipe.yaml");
  EXPECT_EQ(c.get<int>("model.hidden"), 512);
  EXPECT_TRUE(c.get<bool>("model.tied"));
  EXPECT_DOUBLE_EQ(c.get<double>("train.lr"), 0.001);
  EXPECT_EQ(c.get<std::string>("train.optimizer"), "adam");
  EXPECT_EQ(c.get<std::vector<int>>("train.devices"), (std::vector<int>{0, 1}));
  EXPECT_EQ(c.get<int>("model.dropout_steps", 7), 7);
  EXPECT_FALSE(c.has("model.absent"));
}

TEST(Config, ErrorsNameTheKeyAndWhereItsValueCameFrom) {
  Config c = Config::from_yaml_string(kRecipe, "recipe.yaml");
  EXPECT_NE(error_of([&] { c.get<int>("model.heads"); }).find("missing required key 'model.heads'"),
            std::string::npos);
  const std::string wrong = error_of([&] { c.get<int>("train.optimizer"); });
  EXPECT_NE(wrong.find("recipe.yaml:7: key 'train.optimizer' has the value adam"),
            std::string::npos)
      << wrong;
  c.set("model.hidden", "big", "--model.hidden");
  const std::string overridden = error_of([&] { c.get<int>("model.hidden"); });
  EXPECT_NE(overridden.find("--model.hidden: key 'model.hidden'"), std::string::npos) << overridden;
}

TEST(Config, CommandLineOverridesWinAndCreateGroups) {
  Config c = Config::from_yaml_string(kRecipe, "recipe.yaml");
  c.set("model.hidden", "1024");
  c.set("data.train.source", "corpus.de");
  EXPECT_EQ(c.get<int>("model.hidden"), 1024);
  EXPECT_EQ(c.get<std::string>("data.train.source"), "corpus.de");
  EXPECT_THROW(c.set("model.hidden.width", "3"), ConfigError);  // hidden is a value
  EXPECT_THROW(c.set("model..x", "3"), ConfigError);
}

TEST(Config, MergeOverlaysKeyByKey) {
  Config defaults =
      Config::from_yaml_string("model: {hidden: 256, layers: 1}\nseed: 1\n", "defaults");
  defaults.merge(Config::from_yaml_string(kRecipe, "recipe.yaml"));
  EXPECT_EQ(defaults.get<int>("model.hidden"), 512);
  EXPECT_EQ(defaults.get<int>("seed"), 1);
  EXPECT_EQ(defaults.get<int>("model.layers"), 2);
}

TEST(Config, UnreadKeysRevealTypos) {
  const Config c = Config::from_yaml_string("model: {hidden: 1, hiden: 2}\nlist: [1, 2]\n");
  c.get<int>("model.hidden");
  c.get<std::vector<int>>("list");
  EXPECT_EQ(c.unread_keys(), (std::vector<std::string>{"model.hiden"}));
}

TEST(Config, DumpRoundTrips) {
  Config c = Config::from_yaml_string(kRecipe, "recipe.yaml");
  c.set("model.hidden", "64");
  const Config again = Config::from_yaml_string(c.to_yaml(), "dump");
  EXPECT_EQ(again.get<int>("model.hidden"), 64);
  EXPECT_EQ(again.get<std::vector<int>>("train.devices"), (std::vector<int>{0, 1}));
}

TEST(Config, BadRecipesAreNamedErrors) {
  EXPECT_NE(error_of([] {
              Config::from_yaml_string("model:\n  hidden: [1, 2\n", "bad.yaml");
            }).find("bad.yaml:"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Config::from_yaml_string("- a\n- b\n", "list.yaml");
            }).find("list.yaml: a recipe must be a mapping"),
            std::string::npos);
  EXPECT_EQ(Config::from_yaml_string("", "empty.yaml").unread_keys().size(), 0u);
  EXPECT_THROW(Config::from_yaml_file("/nonexistent/recipe.yaml"), IoError);
}

// A copy owns its tree: changing it leaves the original alone (yaml-cpp nodes are references, and
// assigning one writes through; api::train changes its copy of the caller's recipe).
TEST(Config, CopiesAreIndependent) {
  const Config original = Config::from_yaml_string("vocab: {model: ''}\ntrain: {steps: 1}\n");
  Config copy = original;
  copy.set("vocab.model", "vocab.model");
  copy.set("train.steps", "2");
  EXPECT_EQ(original.get<std::string>("vocab.model"), "");
  EXPECT_EQ(original.get<int>("train.steps"), 1);
  Config assigned;
  assigned = original;
  assigned.set("train.steps", "3");
  EXPECT_EQ(original.get<int>("train.steps"), 1);
  EXPECT_EQ(copy.get<int>("train.steps"), 2);
  EXPECT_EQ(assigned.get<int>("train.steps"), 3);
}

}  // namespace
}  // namespace s2s
