// Field readers for JSON request bodies; every refusal is a 400 naming the field.
#include "seq2seq/server/json_fields.h"

#include <cmath>

#include "seq2seq/server/http_error.h"

namespace s2s::server {

namespace {

std::string type_name(const nlohmann::json& value) {
  return value.is_number_integer() ? "an integer" : std::string("a ") + value.type_name();
}

// A short rendering of a bad value for the message.
std::string shown(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

}  // namespace

nlohmann::json parse_request_body(const std::string& body) {
  if (body.empty()) throw HttpError(400, "the request body is empty: a JSON object was expected");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    const std::string what = e.what();
    if (what.find("UTF-8") != std::string::npos || what.find("surrogate") != std::string::npos)
      throw HttpError(400,
                      "the request body is not valid UTF-8 (byte " + std::to_string(e.byte) + ")");
    throw HttpError(400, "the request body is not valid JSON (byte " + std::to_string(e.byte) +
                             "): " + what.substr(what.find(':') + 1));
  }
  if (!json.is_object())
    throw HttpError(400, "the request body must be a JSON object, got " + type_name(json));
  return json;
}

void reject_unknown_fields(const nlohmann::json& body, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : body.items()) {
    bool found = false;
    for (const char* name : known)
      found = found || key == name;
    if (!found) {
      std::string list;
      for (const char* name : known)
        list += (list.empty() ? "" : ", ") + std::string(name);
      throw HttpError(400, "unknown field \"" + key + "\" (known: " + list + ")");
    }
  }
}

std::string string_field(const nlohmann::json& body, const char* name,
                         const std::string& fallback) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string())
    throw HttpError(400, "\"" + std::string(name) + "\" must be a string, got " + type_name(*it));
  return it->get<std::string>();
}

int64_t integer_field(const nlohmann::json& body, const char* name, int64_t fallback, int64_t low,
                      int64_t high) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  const std::string range = " from " + std::to_string(low) + " to " + std::to_string(high);
  if (!it->is_number_integer())
    throw HttpError(
        400, "\"" + std::string(name) + "\" must be an integer" + range + ", got " + shown(*it));
  const int64_t value = it->get<int64_t>();
  if (value < low || value > high)
    throw HttpError(400, "\"" + std::string(name) + "\" must be an integer" + range + ", got " +
                             std::to_string(value));
  return value;
}

double number_field(const nlohmann::json& body, const char* name, double fallback, double low,
                    double high) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number())
    throw HttpError(400, "\"" + std::string(name) + "\" must be a number, got " + shown(*it));
  const double value = it->get<double>();
  if (!std::isfinite(value) || value < low || value > high)
    throw HttpError(400, "\"" + std::string(name) + "\" must be a number from " + shown(low) +
                             " to " + shown(high) + ", got " + shown(*it));
  return value;
}

bool bool_field(const nlohmann::json& body, const char* name, bool fallback) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    throw HttpError(400, "\"" + std::string(name) + "\" must be true or false, got " + shown(*it));
  return it->get<bool>();
}

std::vector<std::string> strings_field(const nlohmann::json& body, const char* name,
                                       size_t max_count) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null())
    throw HttpError(400, "\"" + std::string(name) + "\" is required");
  if (it->is_string()) return {it->get<std::string>()};
  if (!it->is_array())
    throw HttpError(400, "\"" + std::string(name) + "\" must be a string or an array of strings, " +
                             "got " + type_name(*it));
  if (it->empty()) throw HttpError(400, "\"" + std::string(name) + "\" is an empty array");
  if (it->size() > max_count)
    throw HttpError(413, "\"" + std::string(name) + "\" holds " + std::to_string(it->size()) +
                             " entries; at most " + std::to_string(max_count) + " per request");
  std::vector<std::string> values;
  values.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& value = (*it)[i];
    if (!value.is_string())
      throw HttpError(400, "\"" + std::string(name) + "\"[" + std::to_string(i) +
                               "] must be a string, got " + type_name(value));
    values.push_back(value.get<std::string>());
  }
  return values;
}

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // '-' and '_': the URL-safe alphabet
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

std::string decode_base64(const std::string& text, const std::string& field) {
  // A data URL ("data:image/png;base64,....") as a browser's FileReader gives it.
  size_t start = 0;
  if (text.rfind("data:", 0) == 0) {
    const size_t comma = text.find(',');
    if (comma == std::string::npos || text.substr(0, comma).find(";base64") == std::string::npos)
      throw HttpError(400, "\"" + field + "\" is a data URL without ;base64,");
    start = comma + 1;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  bool padding = false;
  for (size_t i = start; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int value = base64_value(c);
    if (value < 0 || padding)
      throw HttpError(
          400, "\"" + field + "\" is not base64 (character " + std::to_string(i - start) + ")");
    bits = (bits << 6) | static_cast<uint32_t>(value);
    if (++count == 4) {
      out += static_cast<char>((bits >> 16) & 0xff);
      out += static_cast<char>((bits >> 8) & 0xff);
      out += static_cast<char>(bits & 0xff);
      bits = 0, count = 0;
    }
  }
  if (count == 1) throw HttpError(400, "\"" + field + "\" is truncated base64");
  if (count == 2) out += static_cast<char>((bits >> 4) & 0xff);
  if (count == 3) {
    out += static_cast<char>((bits >> 10) & 0xff);
    out += static_cast<char>((bits >> 2) & 0xff);
  }
  return out;
}

std::string encode_base64(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63], out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63], out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63], out += kAlphabet[(v >> 12) & 63], out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v =
        (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63], out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63], out += '=';
  }
  return out;
}

}  // namespace s2s::server
