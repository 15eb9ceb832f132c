#include "common/csv.hpp"

namespace cohort::common {
namespace {

bool runs_as_formula(std::string_view value) {
  const auto first = value.find_first_not_of(" \"'");
  if (first == std::string_view::npos) return false;
  const char c = value[first];
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

}  // namespace

std::string csv_field(std::string_view value) {
  std::string quoted = "\"";
  if (runs_as_formula(value)) quoted += '\'';
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

void append_csv_row(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += csv_field(fields[i]);
  }
  out += "\r\n";
}

}  // namespace cohort::common
