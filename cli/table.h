// Rows of named columns printed as an aligned table, CSV or JSON (`--format`).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace actsearch::cli {

// A cell: text, an integer, a number, or nothing (printed empty, or null in JSON).
using Cell = std::variant<std::monostate, std::string, int64_t, double>;

class Table {
 public:
  explicit Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  void AddRow(std::vector<Cell> cells) { rows_.push_back(std::move(cells)); }
  size_t size() const { return rows_.size(); }

  // format: "table" (numbers right-aligned, `decimals` after the point), "csv" or "json"
  // (numbers in full precision). Throws UsageError for any other format.
  std::string Render(const std::string& format, int decimals = 4) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Cell>> rows_;
};

void CheckTableFormat(const std::string& format);  // table, csv or json; UsageError otherwise

}  // namespace actsearch::cli
