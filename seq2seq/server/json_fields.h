// Reading a JSON request body field by field: every mistake is an HttpError 400 naming the
// field (`"beam" must be an integer from 1 to 64, got "five"`), unknown fields included, so a
// client's typo is never silently ignored.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace s2s::server {

// The body as a JSON object: 400 for malformed JSON, invalid UTF-8 or a non-object.
nlohmann::json parse_request_body(const std::string& body);

// 400 naming the first field of body not in known.
void reject_unknown_fields(const nlohmann::json& body, std::initializer_list<const char*> known);

std::string string_field(const nlohmann::json& body, const char* name, const std::string& fallback);
int64_t integer_field(const nlohmann::json& body, const char* name, int64_t fallback, int64_t low,
                      int64_t high);
double number_field(const nlohmann::json& body, const char* name, double fallback, double low,
                    double high);
bool bool_field(const nlohmann::json& body, const char* name, bool fallback);
// A string or an array of strings (required, 1 to max_count of them).
std::vector<std::string> strings_field(const nlohmann::json& body, const char* name,
                                       size_t max_count);

// Standard base64 (RFC 4648, padding optional, white space ignored); 400 naming field.
std::string decode_base64(const std::string& text, const std::string& field);
std::string encode_base64(const std::string& bytes);

}  // namespace s2s::server
