// Recipes: every option of a job declared once with its default (recipe.cc), merged
// defaults < recipe YAML < command line (`--decoder.hidden_size 1024`), with unknown keys
// rejected (a typo is an error naming the key, not a silently ignored setting) and data paths
// resolved against the recipe's folder.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "seq2seq/config.h"

namespace s2s::cli {

using Overrides = std::vector<std::pair<std::string, std::string>>;  // (dotted key, YAML value)

// Removes every `--dotted.key VALUE` and `--dotted.key=VALUE` from argv (argc adjusted) and
// returns them in order; an option whose name has a dot is a recipe key, never a flag.
Overrides take_overrides(int& argc, char** argv);

// The defaults of every recipe key, as YAML with a comment per key.
const std::string& default_recipe();

// defaults < recipe file (if path is not empty) < overrides. ConfigError for a key that is not
// in the defaults, naming it and where it came from.
Config load_recipe(const std::string& path, const Overrides& overrides);

// A path from the recipe, absolute or relative to the recipe's folder.
std::string resolve_path(const std::string& recipe_path, const std::string& path);

}  // namespace s2s::cli
