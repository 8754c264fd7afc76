// Rows of named columns printed as an aligned table, CSV, a JSON array or JSON lines
// (`--format`): the one output vocabulary of every command that prints results.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace actsearch::cli {

using Json = nlohmann::ordered_json;  // keys in the order they were added

// A JSON value in a cell (a learning curve): nested in JSON output, its text elsewhere.
struct JsonCell {
  Json value;
};

// A cell: nothing (empty, or null in JSON), text, an integer, a number, or a JSON value.
using Cell = std::variant<std::monostate, std::string, int64_t, double, JsonCell>;

class Table {
 public:
  explicit Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  void AddRow(std::vector<Cell> cells) { rows_.push_back(std::move(cells)); }
  size_t size() const { return rows_.size(); }

  // format: "table" (numbers right-aligned, `decimals` after the point), "csv", "json" (one
  // array) or "jsonl" (an object per line); numbers in full precision but in "table".
  // Throws UsageError for any other format.
  std::string Render(const std::string& format, int decimals = 4) const;
  // The rows as JSON objects.
  Json ToJson() const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Cell>> rows_;
};

// A cell as text: numbers with `decimals` after the point, or in full precision when negative.
std::string CellText(const Cell& cell, int decimals = -1);

// table, csv, json or jsonl; UsageError naming --format otherwise.
void CheckTableFormat(const std::string& format);

// A number that may be missing: the empty cell when it is.
template <typename T>
Cell OptionalCell(const std::optional<T>& value) {
  return value ? Cell(*value) : Cell(std::monostate{});
}

// "42s", "4m05s", "1h02m": a duration for people.
std::string Duration(double seconds);

// "2026-12-03 07:17:52" (UTC), or "" for 0.
std::string IsoTime(double unix_seconds);

}  // namespace actsearch::cli
