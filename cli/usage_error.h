// An error the user made on the command line: reported in one message, exit code 2.
#pragma once

#include <stdexcept>

namespace actsearch::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace actsearch::cli
