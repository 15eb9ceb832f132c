#include "attendance/attendance_api.hpp"

#include "attendance/attendance_report.hpp"
#include "common/rfc3339.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace cohort::attendance {
namespace json = boost::json;
using http::api_error;
using http::response;

namespace {


json::value time_or_null(const std::optional<std::int64_t>& t) {
  return t ? json::value(common::format_rfc3339(*t)) : json::value(nullptr);
}

json::object to_json(const report& r) {
  json::array people;
  for (const auto& row : r.registrants)
    people.push_back(json::object{{"registration_id", row.registration_id},
                                  {"name", row.name},
                                  {"email", row.email},
                                  {"status", row.status},
                                  {"joined_at", time_or_null(row.joined_at)},
                                  {"left_at", time_or_null(row.left_at)},
                                  {"minutes", row.minutes},
                                  {"attended", row.attended},
                                  {"polls", json::object{{"answered", row.polls_answered}, {"of", r.polls}}}});
  json::array viewers;
  for (std::size_t i = 0; i < r.viewers.size(); ++i)
    viewers.push_back(json::object{{"at", common::format_rfc3339(r.starts_at + static_cast<std::int64_t>(i) * 60)},
                                   {"count", r.viewers[i]}});
  return {{"webinar_id", r.webinar_id},
          {"session",
           json::object{{"number", r.session_number},
                        {"starts_at", common::format_rfc3339(r.starts_at)},
                        {"ends_at", common::format_rfc3339(r.ends_at)}}},
          {"min_minutes", r.min_minutes},
          {"registrants", std::move(people)},
          {"viewers", std::move(viewers)}};
}

}  // namespace

void attendance_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::get, "/api/webinars/{id}/attendance", {access::organizer, false}, &attendance_api::report_json, this);
  r.add(verb::get, "/api/webinars/{id}/attendance.csv", {access::organizer, false}, &attendance_api::report_csv, this);
}

void attendance_api::report_json(http::request& req, http::responder& respond) {
  const int session = req.session_query().value_or(0);
  auto db = ctx_.readers->acquire();
  respond(response::json(200, to_json(build_report(*db, req.id_param(0), session, ctx_.min_minutes, common::unix_now()))));
}

void attendance_api::report_csv(http::request& req, http::responder& respond) {
  const int session = req.session_query().value_or(0);
  auto db = ctx_.readers->acquire();
  const auto r = build_report(*db, req.id_param(0), session, ctx_.min_minutes, common::unix_now());
  auto res = response::text(200, attendance::report_csv(r), "text/csv; charset=utf-8");
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"webinar-" + std::to_string(r.webinar_id) + "-session-" +
                                                      std::to_string(r.session_number) + "-attendance.csv\"");
  respond(std::move(res));
}

}  // namespace cohort::attendance
