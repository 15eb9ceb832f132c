// Every JSON body decoder that is a public function, fed directly (faster than through HTTP).
// Byte 0 selects the decoder; the rest is the body, parsed as the router does (Boost.JSON, an
// object or it is refused before any decoder runs):
//   0 registration::read_questions   PUT /api/webinars/{id}/questions ("questions")
//   1 registration::read_answers     POST /api/webinars/{id}/register ("answers"), against fixed questions
//   2 ce::parse_settings             PUT /api/webinars/{id}/ce, against a 3-session series
//   3 assessment::parse_bank         PUT /api/webinars/{id}/ce/test
//   4 assessment::parse_answers      POST .../test/attempts/{id}, against a shuffled fixed bank (constant seed)
//   5 assessment::parse_items        PUT /api/webinars/{id}/evaluation
//   6 assessment::parse_submission   POST .../evaluation, against fixed items
// Invariants: a decoder returns a value within its documented bounds, or throws
// common::domain_error of kind invalid naming the field; nothing else escapes. Round trips:
// a bank, an evaluation's items and a question list decode again from their own JSON to the same
// value. Decoders only reachable through a handler (in an anonymous namespace: registration's
// webinar input/patch and signup, drops' input/patch, polls' input, the small one-member bodies)
// are covered by fuzz_http_request.
// fuzz-libs: cohort_ce cohort_assessment cohort_registration
#include "assessment/evaluation_store.hpp"
#include "assessment/question_bank.hpp"
#include "ce/ce_settings.hpp"
#include "common/errors.hpp"
#include "registration/registration_questions.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string_view>

using namespace cohort;
namespace json = boost::json;

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_json_bodies: %s\n", what);
  std::abort();
}

const std::vector<registration::question>& signup_questions() {
  static const auto q = [] {
    std::vector<registration::question> v;
    registration::question p;
    for (const char* name : {"license_number", "state", "discipline"})
      if (registration::preset_question(name, p)) v.push_back(p), v.back().id = static_cast<std::int64_t>(v.size());
    v.push_back({10, "employer", "Employer", "text", {}, true});
    v.push_back({11, "track", "Track", "choice", {"clinical", "research", "other"}, false});
    v.push_back({12, "consent", "I agree", "checkbox", {}, true});
    return v;
  }();
  return q;
}

const std::vector<registration::session_slot>& series_sessions() {
  static const std::vector<registration::session_slot> s{{1, 1'900'000'000, 60}, {2, 1'900'086'400, 90}, {3, 1'900'172'800, 45}};
  return s;
}

const std::vector<assessment::shown_question>& shown_bank() {
  static const auto shown = [] {
    std::vector<assessment::question> bank{{1, "single", "Two plus two?", {"3", "4", "5"}, {1}},
                                           {2, "multiple", "Primes?", {"2", "4", "5", "9"}, {0, 2}},
                                           {3, "single", "Yes?", {"yes", "no"}, {0}}};
    std::mt19937_64 rng(17);
    return assessment::make_shown(bank, true, rng);
  }();
  return shown;
}

const std::vector<assessment::evaluation_item>& evaluation_items() {
  static const std::vector<assessment::evaluation_item> items{
      {1, std::nullopt, "scale", "How useful?", true}, {2, 1, "text", "What was missing?", false}, {3, std::nullopt, "text", "Comments", true}};
  return items;
}

bool same(const std::vector<assessment::question>& a, const std::vector<assessment::question>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].kind != b[i].kind || a[i].prompt != b[i].prompt || a[i].options != b[i].options || a[i].correct != b[i].correct) return false;
  return true;
}

void check_bank(const std::vector<assessment::question>& bank) {
  if (bank.size() > assessment::max_questions) finding("bank larger than max_questions");
  for (const auto& q : bank) {
    if (q.kind != "single" && q.kind != "multiple") finding("bank question of unknown kind");
    if (q.options.size() < assessment::min_options || q.options.size() > assessment::max_options) finding("bank options out of bounds");
    if (q.correct.empty() || (q.kind == "single" && q.correct.size() != 1)) finding("bank correct set of the wrong size");
    for (std::size_t i = 0; i < q.correct.size(); ++i) {
      if (q.correct[i] < 0 || static_cast<std::size_t>(q.correct[i]) >= q.options.size()) finding("bank correct index out of range");
      if (i > 0 && q.correct[i] <= q.correct[i - 1]) finding("bank correct set not ascending");
    }
  }
}

void run(int which, const json::value& body) {
  const auto* o = body.if_object();
  if (!o) return;  // the router answers 400 before any decoder: a JSON body must be an object
  switch (which) {
    case 0: {
      const auto* list = o->if_contains("questions");
      const auto qs = registration::read_questions(list);
      if (qs.size() > registration::questions_max) finding("more than questions_max questions");
      for (const auto& q : qs)
        if (q.kind == "choice" && (q.options.size() < registration::options_min || q.options.size() > registration::options_max))
          finding("choice options out of bounds");
      // The list as the signup form gets it reads back as the same list.
      const json::value again = registration::questions_json(qs);
      const auto back = registration::read_questions(&again);
      if (back.size() != qs.size()) finding("questions round trip changed the count");
      for (std::size_t i = 0; i < qs.size(); ++i)
        if (back[i].label != qs[i].label || back[i].kind != qs[i].kind || back[i].options != qs[i].options ||
            back[i].required != qs[i].required)
          finding("questions round trip changed a question");
      break;
    }
    case 1: {
      const auto& qs = signup_questions();
      const auto answers = registration::read_answers(qs, o->if_contains("answers"));
      for (const auto& a : answers) {
        bool known = false;
        for (const auto& q : qs) known = known || q.id == a.question_id;
        if (!known) finding("an answer to an unknown question");
      }
      break;
    }
    case 2: {
      const auto s = ce::parse_settings(*o, series_sessions());
      for (const auto& session : s.sessions)
        if (session.number < 1 || session.number > static_cast<int>(series_sessions().size())) finding("CE settings for a session the series lacks");
      break;
    }
    case 3: {
      const auto bank = assessment::parse_bank(*o);
      check_bank(bank);
      json::array list;
      for (const auto& q : bank) list.push_back(assessment::organizer_json(q));
      const auto back = assessment::parse_bank(json::object{{"questions", std::move(list)}});
      if (!same(bank, back)) finding("bank round trip changed the bank");
      break;
    }
    case 4: {
      const auto& shown = shown_bank();
      const auto sheet = assessment::parse_answers(*o, shown);
      const auto g = assessment::grade_answers(shown, sheet);
      if (g.total != static_cast<int>(shown.size()) || g.right < 0 || g.right > g.total || g.score_percent < 0 || g.score_percent > 100)
        finding("grade out of bounds");
      break;
    }
    case 5: {
      const auto items = assessment::parse_items(*o);
      if (items.size() > assessment::max_evaluation_items) finding("more than max_evaluation_items items");
      json::array list;
      for (const auto& i : items) list.push_back(assessment::item_json(i));
      const auto back = assessment::parse_items(json::object{{"items", std::move(list)}});
      if (back.size() != items.size()) finding("items round trip changed the count");
      for (std::size_t i = 0; i < items.size(); ++i)
        if (back[i].id != items[i].id || back[i].session_number != items[i].session_number || back[i].kind != items[i].kind ||
            back[i].prompt != items[i].prompt || back[i].required != items[i].required)
          finding("items round trip changed an item");
      break;
    }
    case 6: {
      const auto answers = assessment::parse_submission(*o, evaluation_items());
      for (const auto& [key, value] : answers) {
        bool known = false;
        for (const auto& item : evaluation_items()) known = known || std::to_string(item.id) == std::string_view(key);
        if (!known) finding("a submission answer to an unknown item");
      }
      break;
    }
    default: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 64 * 1024 + 1) return 0;  // the server's body_max_bytes
  const int which = data[0] % 7;
  boost::system::error_code ec;
  const auto body = json::parse(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), ec);
  if (ec) return 0;
  try {
    run(which, body);
  } catch (const common::domain_error& e) {
    if (e.what_went_wrong != common::domain_error::kind::invalid) finding("a domain error other than invalid");
    if (e.field.empty()) finding("an invalid body error naming no field");
  }
  // Anything else (std::exception, boost::system::system_error from a json accessor) escapes
  // and libFuzzer reports it as a crash.
  return 0;
}
