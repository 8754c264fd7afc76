#include "cli/table.h"

#include <algorithm>
#include <cstdio>

#include "cli/json.h"
#include "cli/usage_error.h"

namespace actsearch::cli {
namespace {

std::string Plain(const Cell& cell, int decimals) {
  if (const auto* s = std::get_if<std::string>(&cell)) return *s;
  if (const auto* i = std::get_if<int64_t>(&cell)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&cell)) {
    char text[64];
    if (decimals < 0) {
      std::snprintf(text, sizeof text, "%.15g",
                    *d);  // no binary noise (0.92, not 0.92000000000000004)
    } else {
      std::snprintf(text, sizeof text, "%.*f", decimals, *d);
    }
    return text;
  }
  return "";
}

bool IsNumber(const Cell& cell) {
  return std::holds_alternative<int64_t>(cell) || std::holds_alternative<double>(cell);
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

void CheckTableFormat(const std::string& format) {
  if (format != "table" && format != "csv" && format != "json") {
    throw UsageError("--format must be table, csv or json, not '" + format + "'");
  }
}

std::string Table::Render(const std::string& format, int decimals) const {
  CheckTableFormat(format);
  std::string out;
  if (format == "json") {
    JsonArray rows;
    for (const auto& row : rows_) {
      JsonObject o;
      for (size_t c = 0; c < columns_.size(); ++c) {
        const Cell& cell = row[c];
        if (std::holds_alternative<std::monostate>(cell)) {
          o.AddRaw(columns_[c], "null");
        } else if (IsNumber(cell)) {
          o.AddRaw(columns_[c], Plain(cell, -1));
        } else {
          o.Add(columns_[c], std::get<std::string>(cell));
        }
      }
      rows.AddRaw(o.str());
    }
    return rows.str() + "\n";
  }
  if (format == "csv") {
    for (size_t c = 0; c < columns_.size(); ++c) out += (c ? "," : "") + CsvField(columns_[c]);
    out += "\n";
    for (const auto& row : rows_) {
      for (size_t c = 0; c < columns_.size(); ++c) {
        out += (c ? "," : "") + CsvField(Plain(row[c], -1));
      }
      out += "\n";
    }
    return out;
  }
  std::vector<size_t> width(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) width[c] = columns_[c].size();
  for (const auto& row : rows_) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      width[c] = std::max(width[c], Plain(row[c], decimals).size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells, const std::vector<bool>& right) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      const bool last = c + 1 == cells.size();
      text += right[c] ? pad + cells[c] : cells[c] + (last ? "" : pad);
      if (!last) text += "  ";
    }
    return text + "\n";
  };
  std::vector<bool> right(columns_.size(), false);
  for (size_t c = 0; c < columns_.size(); ++c) {
    right[c] = !rows_.empty() && IsNumber(rows_[0][c]);
  }
  out += line(columns_, right);
  for (const auto& row : rows_) {
    std::vector<std::string> cells;
    for (const Cell& cell : row) cells.push_back(Plain(cell, decimals));
    out += line(cells, right);
  }
  return out;
}

}  // namespace actsearch::cli
