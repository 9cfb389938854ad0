// Config over yaml-cpp, which stays inside this file.
#include "seq2seq/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "seq2seq/error.h"

namespace s2s {

struct Config::Impl {
  YAML::Node root = YAML::Node(YAML::NodeType::Map);
  std::string file;                            // the YAML file's name, for file:line messages
  std::map<std::string, std::string> sources;  // dotted key -> origin, for keys set() or merged
  mutable std::set<std::string> read;          // dotted keys read by get()

  // Where a key's value came from: "recipe.yaml:12", "--model.hidden", "defaults".
  std::string origin(const std::string& key, const YAML::Node& node) const {
    const auto it = sources.find(key);
    if (it != sources.end()) return it->second;
    const YAML::Mark mark = node.Mark();
    if (mark.line >= 0 && !file.empty()) return file + ":" + std::to_string(mark.line + 1);
    return file.empty() ? "defaults" : file;
  }
};

namespace {

std::vector<std::string> split_key(const std::string& dotted) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(dotted);
  while (std::getline(in, part, '.')) {
    if (part.empty()) throw ConfigError("invalid key '" + dotted + "': empty component");
    parts.push_back(part);
  }
  if (parts.empty()) throw ConfigError("empty configuration key");
  return parts;
}

// Follows the path without creating anything; an undefined node when absent.
YAML::Node find(const YAML::Node& root, const std::vector<std::string>& parts) {
  YAML::Node current = root;
  for (const auto& part : parts) {
    if (!current.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    YAML::Node next = current[part];
    if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    current.reset(next);
  }
  return current;
}

void collect_leaves(const YAML::Node& node, const std::string& prefix,
                    std::vector<std::string>& out) {
  if (node.IsMap() && node.size() > 0) {
    for (const auto& kv : node)
      collect_leaves(
          kv.second,
          prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>(),
          out);
  } else {
    out.push_back(prefix);
  }
}

YAML::Node parse(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
}

void merge_into(YAML::Node target, const YAML::Node& source) {
  for (const auto& kv : source) {
    const std::string key = kv.first.as<std::string>();
    if (kv.second.IsMap() && target[key].IsMap())
      merge_into(target[key], kv.second);
    else
      target[key] = YAML::Clone(kv.second);
  }
}

}  // namespace

Config::Config() : impl_(std::make_unique<Impl>()) {}
Config::~Config() = default;
// YAML::Node has reference semantics, and its operator= writes through the reference: assigning
// a clone to a node shared with other would change other's tree too. reset() rebinds instead,
// so a copy owns a tree of its own (a Config handed to train() and changed there leaves the
// caller's alone).
Config::Config(const Config& other) : impl_(std::make_unique<Impl>(*other.impl_)) {
  impl_->root.reset(YAML::Clone(other.impl_->root));
}
Config& Config::operator=(const Config& other) {
  if (this != &other) {
    *impl_ = *other.impl_;
    impl_->root.reset(YAML::Clone(other.impl_->root));
  }
  return *this;
}

Config Config::from_yaml_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot open recipe '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  Config config = from_yaml_string(text.str(), path);
  return config;
}

Config Config::from_yaml_string(const std::string& text, const std::string& source) {
  Config config;
  YAML::Node root = parse(text, source);
  if (root.IsNull() || !root.IsDefined()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap())
    throw ConfigError(source + ": a recipe must be a mapping of keys at its top level");
  config.impl_->root = root;
  config.impl_->file = source;
  return config;
}

void Config::set(const std::string& dotted_key, const std::string& yaml_value,
                 const std::string& source) {
  const auto parts = split_key(dotted_key);
  YAML::Node value = parse(yaml_value, source);
  YAML::Node current = impl_->root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = current[parts[i]];
    if (!next.IsDefined() || !next.IsMap()) {
      if (next.IsDefined() && !next.IsNull())
        throw ConfigError(source + ": cannot set '" + dotted_key + "': '" + parts[i] +
                          "' is a value, not a group of keys");
      current[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = current[parts[i]];
    }
    current.reset(next);
  }
  current[parts.back()] = value;
  impl_->sources[dotted_key] = source;
}

void Config::merge(const Config& other) {
  merge_into(impl_->root, other.impl_->root);
  std::vector<std::string> leaves;
  collect_leaves(other.impl_->root, "", leaves);
  for (const auto& key : leaves)
    impl_->sources[key] =
        other.impl_->sources.count(key) ? other.impl_->sources.at(key) : other.impl_->file;
}

bool Config::has(const std::string& dotted_key) const {
  return find(impl_->root, split_key(dotted_key)).IsDefined();
}

template <typename T>
T Config::get(const std::string& dotted_key) const {
  const YAML::Node node = find(impl_->root, split_key(dotted_key));
  if (!node.IsDefined() || node.IsNull())
    throw ConfigError("missing required key '" + dotted_key + "'" +
                      (impl_->file.empty() ? "" : " in " + impl_->file));
  impl_->read.insert(dotted_key);
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    YAML::Emitter out;
    out << YAML::Flow << node;
    throw ConfigError(impl_->origin(dotted_key, node) + ": key '" + dotted_key +
                      "' has the value " + out.c_str() + ", which is not a valid " + [] {
                        if constexpr (std::is_same_v<T, bool>)
                          return "true/false";
                        else if constexpr (std::is_integral_v<T>)
                          return "integer";
                        else if constexpr (std::is_floating_point_v<T>)
                          return "number";
                        else if constexpr (std::is_same_v<T, std::string>)
                          return "string";
                        else
                          return "list";
                      }());
  }
}

template <typename T>
T Config::get(const std::string& dotted_key, const T& fallback) const {
  if (!has(dotted_key)) return fallback;
  return get<T>(dotted_key);
}

std::vector<std::string> Config::unread_keys() const {
  std::vector<std::string> leaves, unread;
  collect_leaves(impl_->root, "", leaves);
  for (const auto& key : leaves) {
    bool read = false;
    // A key counts as read if it or a group above it was read (e.g. a list read whole).
    for (std::string k = key;; k = k.substr(0, k.rfind('.'))) {
      if (impl_->read.count(k)) read = true;
      if (read || k.find('.') == std::string::npos) break;
    }
    if (!read && !key.empty()) unread.push_back(key);
  }
  return unread;
}

std::string Config::to_yaml() const {
  YAML::Emitter out;
  out << impl_->root;
  return std::string(out.c_str()) + "\n";
}

#define S2S_INSTANTIATE(T)                             \
  template T Config::get<T>(const std::string&) const; \
  template T Config::get<T>(const std::string&, const T&) const;
S2S_INSTANTIATE(bool)
S2S_INSTANTIATE(int)
S2S_INSTANTIATE(int64_t)
S2S_INSTANTIATE(double)
S2S_INSTANTIATE(std::string)
S2S_INSTANTIATE(std::vector<int>)
S2S_INSTANTIATE(std::vector<double>)
S2S_INSTANTIATE(std::vector<std::string>)
#undef S2S_INSTANTIATE

}  // namespace s2s
