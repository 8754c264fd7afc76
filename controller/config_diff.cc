#include "controller/config_diff.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include <map>

namespace actsearch::controller {
namespace {

namespace pb = google::protobuf;
using Differencer = pb::util::MessageDifferencer;
using Path = std::vector<Differencer::SpecificField>;

// The field a path ends at, as text in `root` ("(unset)" when absent). Repeated fields print
// whole, as a list.
std::string ValueAt(const pb::Message& root, const Path& path) {
  const pb::Message* message = &root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const pb::FieldDescriptor* field = path[i].field;
    const pb::Reflection* reflection = message->GetReflection();
    if (field->is_repeated()) {
      if (path[i].index < 0 || path[i].index >= reflection->FieldSize(*message, field)) {
        return "(unset)";
      }
      message = &reflection->GetRepeatedMessage(*message, field, path[i].index);
    } else {
      if (!reflection->HasField(*message, field)) return "(unset)";
      message = &reflection->GetMessage(*message, field);
    }
  }
  const pb::FieldDescriptor* field = path.back().field;
  const pb::Reflection* reflection = message->GetReflection();
  std::string text;
  if (field->is_repeated()) {
    text = "[";
    for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
      std::string item;
      pb::TextFormat::PrintFieldValueToString(*message, field, i, &item);
      text += (i ? ", " : "") + item;
    }
    return text + "]";
  }
  if (field->type() == pb::FieldDescriptor::TYPE_MESSAGE) {
    if (!reflection->HasField(*message, field)) return "(unset)";
    pb::TextFormat::Printer printer;
    printer.SetSingleLineMode(true);
    printer.PrintToString(reflection->GetMessage(*message, field), &text);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return "{" + text + "}";
  }
  pb::TextFormat::PrintFieldValueToString(*message, field, -1, &text);
  return text;
}

std::string PathName(const Path& path) {
  std::string name;
  for (const Differencer::SpecificField& f : path) {
    name += (name.empty() ? "" : ".") + (f.field ? f.field->name() : "?");
  }
  return name;
}

// "cifar10:/data/a" and "cifar10:/data/b" name the same dataset in two places.
std::string DatasetKind(const std::string& spec) { return spec.substr(0, spec.find(':')); }

bool Allowed(const std::string& field, const proto::SearchConfig& stored,
             const proto::SearchConfig& given) {
  for (const char* section : {"budget", "dispatch"}) {
    if (field == section || field.rfind(std::string(section) + ".", 0) == 0) return true;
  }
  return field == "child.resnet.dataset" && DatasetKind(stored.child().resnet().dataset()) ==
                                                DatasetKind(given.child().resnet().dataset());
}

class CollectChanges : public Differencer::Reporter {
 public:
  CollectChanges(const proto::SearchConfig& stored, const proto::SearchConfig& given)
      : stored_(stored), given_(given) {}

  void ReportAdded(const pb::Message&, const pb::Message&, const Path& path) override { Add(path); }
  void ReportDeleted(const pb::Message&, const pb::Message&, const Path& path) override {
    Add(path);
  }
  void ReportModified(const pb::Message&, const pb::Message&, const Path& path) override {
    // A message is reported modified after the fields inside it that changed: those tell.
    const pb::FieldDescriptor* field = path.back().field;
    if (field && field->type() == pb::FieldDescriptor::TYPE_MESSAGE) return;
    Add(path);
  }

  std::vector<ConfigChange> changes() const {
    std::vector<ConfigChange> out;
    for (const auto& [name, change] : changes_) out.push_back(change);
    return out;
  }

 private:
  void Add(const Path& path) {
    // A repeated field reports per element, a oneof per member: one change per named field,
    // its whole value before and after.
    Path field_path;
    for (const Differencer::SpecificField& f : path) {
      Differencer::SpecificField whole = f;
      if (&f == &path.back()) whole.index = -1;
      field_path.push_back(whole);
    }
    const std::string name = PathName(field_path);
    if (changes_.count(name)) return;
    changes_[name] = {name, ValueAt(stored_, field_path), ValueAt(given_, field_path),
                      Allowed(name, stored_, given_)};
  }

  const proto::SearchConfig& stored_;
  const proto::SearchConfig& given_;
  std::map<std::string, ConfigChange> changes_;
};

}  // namespace

std::vector<ConfigChange> DiffConfigs(const proto::SearchConfig& stored,
                                      const proto::SearchConfig& given) {
  CollectChanges collect(stored, given);
  // Compared as set: an empty message is not an unset one (`strategy { random {} }` chooses).
  Differencer differencer;
  differencer.ReportDifferencesTo(&collect);
  differencer.Compare(stored, given);
  return collect.changes();
}

std::string DescribeChanges(const std::vector<ConfigChange>& changes) {
  std::string text;
  for (const ConfigChange& c : changes) {
    text += (text.empty() ? "" : ", ") + c.field + " " + c.before + " -> " + c.after;
  }
  return text;
}

}  // namespace actsearch::controller
