#include "assessment/test_api.hpp"

#include "../store/temp_database_file.hpp"
#include "assessment/evaluation_api.hpp"
#include "common/rfc3339.hpp"
#include "gateway/auth.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"
#include "store/reader_pool.hpp"
#include "store/sqlite_writer.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <future>

using namespace cohort;
namespace json = boost::json;

namespace {

// A registrant's requests through the real routes, the single writer and a reader pool on one
// temp file; the hooks record what they were told and whether they saw the write they follow.
struct fixture {
  test::temp_database_file file;
  std::int64_t webinar = 0, registration = 0;
  std::string nonce_hash;
  std::unique_ptr<store::sqlite_writer> writer;
  std::unique_ptr<store::reader_pool> readers;
  std::vector<assessment::progress_hook> hooks;
  struct call {
    std::int64_t webinar, registration;
    int session;
    std::int64_t passed_attempts, evaluations;
  };
  std::vector<call> calls;
  std::unique_ptr<assessment::test_api> tests;
  std::unique_ptr<assessment::evaluation_api> evaluations;
  http::router router{nullptr, [this](const http::request&, std::string_view bearer) {
                        http::identity who;
                        if (bearer != "registrant") return who;
                        who.role = http::identity::kind::registrant;
                        who.registration_id = registration;
                        who.webinar_id = webinar;
                        who.token_nonce_hash = nonce_hash;
                        return who;
                      }};

  fixture() {
    {
      store::database db(file.path());
      store::migrate(db);
      registration::webinar_input in;
      in.title = "Series";
      const auto now = common::unix_now();
      in.sessions = {registration::session_slot{0, now - 7200, 60}};
      webinar = registration::create_webinar(db, std::move(in), now - 86400);
      registration::signup_input s;
      s.name = "Maya";
      s.email = "maya@example.org";
      s.email_key = *registration::email_key(s.email);
      http::token_codec tokens{"hooks-test-secret-0123456789abcdef"};
      registration = registration::create_signup(db, webinar, s, tokens, now - 86400).id;
      nonce_hash = registration::token_hash_of(db, webinar, registration);
      const auto w = std::to_string(webinar), r = std::to_string(registration);
      db.exec("INSERT INTO ce_series (webinar_id, offered, updated_at) VALUES (" + w + ", 1, 0)");
      db.exec("INSERT INTO ce_questions (webinar_id, session_number, position, kind, prompt, options, correct) VALUES (" + w +
              ", 1, 1, 'single', 'Q', '[\"a\",\"b\"]', '[1]')");
      db.exec("INSERT INTO ce_evaluation_items (webinar_id, session_number, position, kind, prompt, required) VALUES (" + w +
              ", NULL, 1, 'scale', 'Useful?', 1)");
      db.exec("WITH RECURSIVE m(x) AS (SELECT (" + std::to_string(now - 7200) + ") / 60 UNION ALL SELECT x + 1 FROM m LIMIT 60)"
              " INSERT INTO attendance (webinar_id, registration_id, minute) SELECT " + w + ", " + r + ", x FROM m");
    }
    writer = std::make_unique<store::sqlite_writer>(store::database(file.path()), store::sqlite_writer::options{});
    readers = std::make_unique<store::reader_pool>(file.path(), 2, 5000);
    hooks.push_back([this](store::database& db, std::int64_t w, std::int64_t r, int session, std::int64_t) {
      auto count = [&db](const char* sql) {
        auto st = db.prepare(sql);
        st.step();
        return st.int64(0);
      };
      calls.push_back({w, r, session, count("SELECT count(*) FROM ce_attempts WHERE passed = 1"),
                       count("SELECT count(*) FROM ce_evaluations")});
    });
    assessment::assessment_context ctx{{writer.get(), {}}, readers.get(), &hooks};
    tests = std::make_unique<assessment::test_api>(ctx);
    evaluations = std::make_unique<assessment::evaluation_api>(ctx);
    tests->add_routes(router);
    evaluations->add_routes(router);
  }
  ~fixture() { writer->stop(); }

  std::pair<unsigned, json::value> send(http::verb method, const std::string& path, const std::string& body = {}) {
    http::request req;
    req.method = method;
    req.path = req.target = path;
    for (std::size_t start = 1;;) {
      const auto slash = path.find('/', start);
      req.segments.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    req.authorization = "Bearer registrant";
    req.body = body;
    req.body_framed = true;
    if (!body.empty()) req.content_type = "application/json";
    auto done = std::make_shared<std::promise<http::response>>();
    auto answer = done->get_future();
    router.dispatch(req, [done](http::response res) { done->set_value(std::move(res)); });
    REQUIRE(answer.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto res = answer.get();
    return {res.status, json::parse(res.body)};
  }
};

}  // namespace

TEST_CASE("progress hooks run inside the write of a passing attempt and of an evaluation, not a failed attempt", "[assessment]") {
  fixture f;
  auto [started, attempt] = f.send(http::verb::post, "/api/me/ce/1/test/attempts");
  REQUIRE(started == 201);
  const auto id = std::to_string(attempt.at("id").as_int64());
  const auto qid = std::to_string(attempt.at("questions").as_array()[0].at("id").as_int64());

  auto [failed, graded] = f.send(http::verb::post, "/api/me/ce/1/test/attempts/" + id, R"({"answers": {")" + qid + R"(": [0]}})");
  REQUIRE(failed == 200);
  CHECK(graded.at("passed").as_bool() == false);
  CHECK(f.calls.empty());

  auto [again, second] = f.send(http::verb::post, "/api/me/ce/1/test/attempts");
  REQUIRE(again == 201);
  const auto id2 = std::to_string(second.at("id").as_int64());
  auto [passed, pass] = f.send(http::verb::post, "/api/me/ce/1/test/attempts/" + id2, R"({"answers": {")" + qid + R"(": [1]}})");
  REQUIRE(passed == 200);
  CHECK(pass.at("passed").as_bool());
  REQUIRE(f.calls.size() == 1);
  CHECK(f.calls[0].webinar == f.webinar);
  CHECK(f.calls[0].registration == f.registration);
  CHECK(f.calls[0].session == 1);
  CHECK(f.calls[0].passed_attempts == 1);  // the hook sees the pass it follows: same transaction

  auto [form_status, form] = f.send(http::verb::get, "/api/me/ce/1/evaluation");
  REQUIRE(form_status == 200);
  const auto item = std::to_string(form.at("items").as_array()[0].at("id").as_int64());
  const auto body = R"({"answers": {")" + item + R"(": 5}})";

  // A hook that throws undoes the write it follows, and the registrant hears the error.
  f.hooks.push_back([](store::database&, std::int64_t, std::int64_t, int, std::int64_t) { throw std::runtime_error("settle failed"); });
  auto [broken, error] = f.send(http::verb::post, "/api/me/ce/1/evaluation", body);
  CHECK(broken == 500);
  f.hooks.pop_back();
  REQUIRE(f.calls.size() == 2);  // the first hook ran, then its write was rolled back
  CHECK(f.send(http::verb::get, "/api/me/ce/1/evaluation").second.at("state").as_string() == "open");

  auto [sent, _] = f.send(http::verb::post, "/api/me/ce/1/evaluation", body);
  CHECK(sent == 201);
  REQUIRE(f.calls.size() == 3);
  CHECK(f.calls[2].evaluations == 1);
  CHECK(f.calls[2].session == 1);
}
