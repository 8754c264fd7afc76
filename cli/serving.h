// What the commands that serve or connect share: the stop signals, the shared token, PEM
// files and listen addresses, each checked the same way everywhere.
#pragma once

#include <atomic>
#include <string>

namespace actsearch::cli {

// The variable a token may come from instead of a file.
inline constexpr const char* kTokenVariable = "ACTSEARCH_TOKEN";

// Set by SIGINT or SIGTERM once CatchStopSignals has run.
extern std::atomic<bool> g_stop_signal;
// SIGINT or SIGTERM, caught from the command's start: a worker stops between steps; a
// controller or dashboard stops as soon as its server runs.
void CatchStopSignals();

// The shared token: the first line of `token_file`, else $ACTSEARCH_TOKEN, else none. Throws
// UsageError for an unreadable or empty file, or a token that is not printable ASCII.
std::string ReadToken(const std::string& token_file);

// Throws UsageError unless `path` reads and holds a '-----BEGIN ...-----' `block`.
void CheckPemFile(const std::string& path, const std::string& flag, const std::string& block);

// --listen as HOST:PORT or [IPV6]:PORT; throws UsageError for a malformed address or a port
// outside 0..65535. True for a loopback host, parsed rather than matched as text.
bool IsLoopbackListenAddress(const std::string& address);

}  // namespace actsearch::cli
