#include "controller/stored_config.h"

#include <google/protobuf/text_format.h>

namespace actsearch::controller {

std::string StoredConfigText(const proto::SearchConfig& config) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(config, &text);
  return text;
}

std::optional<proto::SearchConfig> ParseStoredConfig(const std::string& text,
                                                     UnknownFields unknown_fields) {
  if (text.empty()) return std::nullopt;
  proto::SearchConfig config;
  google::protobuf::TextFormat::Parser parser;
  parser.AllowUnknownField(unknown_fields == UnknownFields::kSkip);
  if (!parser.ParseFromString(text, &config)) return std::nullopt;
  return config;
}

}  // namespace actsearch::controller
