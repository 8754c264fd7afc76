// Exit codes of the actsearch binary, the same for every subcommand.
#pragma once

namespace actsearch::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and something failed
inline constexpr int kExitUsage = 2;    // bad flags, a malformed expression or configuration
// train: the candidate diverged, or reached its time limit.
inline constexpr int kExitDiverged = 3;
inline constexpr int kExitTimedOut = 4;
// controller, local: the search was stopped (a signal, `actsearch stop`) before its end; run
// again to resume. worker: stopped by a signal, or its controller stopped.
inline constexpr int kExitSearchStopped = 5;
// worker: the controller refused it (wrong token), or could not be reached.
inline constexpr int kExitRefused = 6;
inline constexpr int kExitUnreachable = 7;
// controller, local: trials kept failing through no fault of their candidates (data files,
// devices, dying workers); the search stopped as failed, resumable once the cause is fixed.
inline constexpr int kExitSearchFailed = 8;

}  // namespace actsearch::cli
