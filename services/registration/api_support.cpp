#include "registration/api_support.hpp"

#include "registration/validation.hpp"

#include <iostream>

namespace cohort::registration {

http::response error_from(std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const validation_error& e) {
    return http::error_response(422, "validation_failed", e.what(), e.field);
  } catch (const not_found_error& e) {
    return http::error_response(404, "not_found", e.what());
  } catch (const http::api_error& e) {
    return http::error_response(e.status, e.code, e.what(), e.field);
  } catch (const std::exception& e) {
    std::cerr << "cohort: request failed: " << e.what() << "\n";
  }
  return http::error_response(500, "internal", "internal error");
}

}  // namespace cohort::registration
