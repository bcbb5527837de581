// Error handling in two tiers.
//  - SNGAN_CHECK(cond, parts...) throws sngan::Error for anything a user can cause
//    (bad shapes, bad files, bad config). Messages read "expected ..., got ...".
//  - SNGAN_DEBUG_ASSERT(cond) guards hot loops in debug builds only.
// Library code never exits; the executable catches sngan::Error and prints one line.
#pragma once

#include <cassert>
#include <sstream>
#include <stdexcept>
#include <string>

namespace sngan {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

}  // namespace sngan

#define SNGAN_CHECK(cond, ...)                                       \
  do {                                                               \
    if (!(cond)) throw ::sngan::Error(::sngan::detail::concat(__VA_ARGS__)); \
  } while (0)

#define SNGAN_DEBUG_ASSERT(cond) assert(cond)
