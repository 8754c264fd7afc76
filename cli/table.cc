#include "cli/table.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "cli/usage_error.h"

namespace actsearch::cli {

std::string CellText(const Cell& cell, int decimals) {
  if (const auto* s = std::get_if<std::string>(&cell)) return *s;
  if (const auto* j = std::get_if<JsonCell>(&cell)) return j->value.dump();
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

namespace {

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
  if (format != "table" && format != "csv" && format != "json" && format != "jsonl") {
    throw UsageError("--format must be table, csv, json or jsonl, not '" + format + "'");
  }
}

std::string IsoTime(double unix_seconds) {
  if (unix_seconds <= 0) return "";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &utc);
  return text;
}

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60));
  } else if (s >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(s));
  }
  return text;
}

Json Table::ToJson() const {
  Json rows = Json::array();
  for (const auto& row : rows_) {
    Json object = Json::object();
    for (size_t c = 0; c < columns_.size(); ++c) {
      std::visit(
          [&](const auto& value) {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              object[columns_[c]] = nullptr;
            } else if constexpr (std::is_same_v<T, JsonCell>) {
              object[columns_[c]] = value.value;
            } else {
              object[columns_[c]] = value;  // NaN and infinities become null
            }
          },
          row[c]);
    }
    rows.push_back(std::move(object));
  }
  return rows;
}

std::string Table::Render(const std::string& format, int decimals) const {
  CheckTableFormat(format);
  std::string out;
  if (format == "json") return ToJson().dump() + "\n";
  if (format == "jsonl") {
    for (const Json& row : ToJson()) out += row.dump() + "\n";
    return out;
  }
  if (format == "csv") {
    for (size_t c = 0; c < columns_.size(); ++c) out += (c ? "," : "") + CsvField(columns_[c]);
    out += "\n";
    for (const auto& row : rows_) {
      for (size_t c = 0; c < columns_.size(); ++c) {
        out += (c ? "," : "") + CsvField(CellText(row[c], -1));
      }
      out += "\n";
    }
    return out;
  }
  std::vector<size_t> width(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) width[c] = columns_[c].size();
  for (const auto& row : rows_) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      width[c] = std::max(width[c], CellText(row[c], decimals).size());
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
    for (const Cell& cell : row) cells.push_back(CellText(cell, decimals));
    out += line(cells, right);
  }
  return out;
}

}  // namespace actsearch::cli
