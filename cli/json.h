// Minimal JSON output for `--format json`: objects and arrays built in order.
#pragma once

#include <cstdint>
#include <string>

namespace actsearch::cli {

std::string JsonString(const std::string& text);  // quoted and escaped
std::string JsonNumber(double value);             // null for inf and NaN

class JsonObject {
 public:
  void Add(const std::string& key, const std::string& value) { AddRaw(key, JsonString(value)); }
  void Add(const std::string& key, const char* value) { Add(key, std::string(value)); }
  void Add(const std::string& key, double value) { AddRaw(key, JsonNumber(value)); }
  void Add(const std::string& key, uint64_t value) { AddRaw(key, std::to_string(value)); }
  void AddRaw(const std::string& key, const std::string& json);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

class JsonArray {
 public:
  void Add(double value) { AddRaw(JsonNumber(value)); }
  void AddRaw(const std::string& json);
  std::string str() const { return "[" + body_ + "]"; }

 private:
  std::string body_;
};

}  // namespace actsearch::cli
