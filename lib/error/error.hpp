// The one base of every error depthscale's library throws on purpose. The library never chooses a
// process exit code: apps/ maps these classes to the exit codes of docs/commands.md in one place
// (InputError → 2, any other Error → 1).
#pragma once

#include <stdexcept>
#include <string>

namespace depthscale {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Input the user fixes by editing a job file or a command line: the message names the file, the
// key and the line.
class InputError : public Error {
 public:
  using Error::Error;
};

}  // namespace depthscale
