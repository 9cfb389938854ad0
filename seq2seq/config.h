// Config: the resolved recipe, a tree of keys read from YAML, overridden from the command line
// (`--model.hidden 1024`), read through typed getters that name the key and where its value came
// from when it is missing or of the wrong type. Library code never sees Config: the boundary
// (CLI, trainer set-up) converts it into the typed option structs of each component.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace s2s {

class Config {
 public:
  Config();  // empty
  ~Config();
  Config(const Config& other);
  Config& operator=(const Config& other);

  // Throws IoError if the file cannot be read, ConfigError naming file:line:column for bad YAML
  // or a top level that is not a mapping.
  static Config from_yaml_file(const std::string& path);
  static Config from_yaml_string(const std::string& text, const std::string& source = "<string>");

  // Sets a dotted key ("model.hidden") to a value given as YAML text ("1024", "[1, 2]", "adam"),
  // creating intermediate mappings. source names the origin for error messages ("--model.hidden").
  void set(const std::string& dotted_key, const std::string& yaml_value,
           const std::string& source = "command line");
  // Overlays every key of other onto this one (other wins; mappings merge key by key).
  void merge(const Config& other);

  bool has(const std::string& dotted_key) const;
  // Typed reads; a missing key or a value that does not convert throws ConfigError naming the
  // key, the value and its source (file:line or command line).
  template <typename T>
  T get(const std::string& dotted_key) const;
  template <typename T>
  T get(const std::string& dotted_key, const T& fallback) const;

  // Keys present in the config (leaves, dotted) that no get() has read: typos in a recipe.
  std::vector<std::string> unread_keys() const;

  std::string to_yaml() const;  // the effective recipe, for --dump-config and config.yaml

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

extern template bool Config::get<bool>(const std::string&) const;
extern template int Config::get<int>(const std::string&) const;
extern template int64_t Config::get<int64_t>(const std::string&) const;
extern template double Config::get<double>(const std::string&) const;
extern template std::string Config::get<std::string>(const std::string&) const;
extern template std::vector<int> Config::get<std::vector<int>>(const std::string&) const;
extern template std::vector<double> Config::get<std::vector<double>>(const std::string&) const;
extern template std::vector<std::string> Config::get<std::vector<std::string>>(
    const std::string&) const;

}  // namespace s2s
