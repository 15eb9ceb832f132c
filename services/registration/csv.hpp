// RFC 4180 CSV for the organizer's exports.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cohort::registration {

// One field: quoted when it holds , " CR or LF; a value a spreadsheet would run as a formula
// (starting with = + - @ TAB or CR) gets a leading ' so it stays text (OWASP CSV injection).
std::string csv_field(std::string_view value);
// Appends one record with CRLF.
void append_csv_row(std::string& out, const std::vector<std::string>& fields);

}  // namespace cohort::registration
