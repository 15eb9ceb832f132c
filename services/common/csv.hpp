// RFC 4180 CSV for the organizer's exports (registrants, attendance, chat transcript).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cohort::common {

// One field, always quoted (doubling inner quotes), so no value can end a cell early. A value a
// spreadsheet would run as a formula gets a leading ' so it stays text (OWASP CSV injection):
// one whose first character — after any leading spaces and quotes, which spreadsheets skip — is
// = + - @ TAB or CR.
std::string csv_field(std::string_view value);
// Appends one record with CRLF.
void append_csv_row(std::string& out, const std::vector<std::string>& fields);

}  // namespace cohort::common
