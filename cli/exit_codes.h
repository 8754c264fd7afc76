// Exit codes of the actsearch binary, the same for every subcommand.
#pragma once

namespace actsearch::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and something failed
inline constexpr int kExitUsage = 2;    // bad flags, a malformed expression or configuration

}  // namespace actsearch::cli
