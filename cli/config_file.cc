#include "cli/config_file.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "cli/usage_error.h"

namespace actsearch::cli {
namespace {

class CollectFirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) {
      first_ = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) +
               ": " + message;
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

std::string JoinNames(const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}

}  // namespace

proto::SearchConfig ReadSearchConfig(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw UsageError(path + ": cannot open: " + std::strerror(errno));
  std::stringstream text;
  text << file.rdbuf();
  proto::SearchConfig config;
  google::protobuf::TextFormat::Parser parser;
  CollectFirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), &config)) {
    throw UsageError(path + ": " + errors.first());
  }
  return config;
}

SpaceSpec SpaceSpecFromProto(const proto::SearchSpace& space) {
  SpaceSpec spec;
  spec.units = space.units() == 0 ? 1 : space.units();
  if (spec.units < 1) throw UsageError("space.units must be at least 1");
  try {
    spec.unary = ParseUnaryList(JoinNames(space.unary()));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("space.unary: ") + e.what());
  }
  try {
    spec.binary = ParseBinaryList(JoinNames(space.binary()));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("space.binary: ") + e.what());
  }
  return spec;
}

}  // namespace actsearch::cli
