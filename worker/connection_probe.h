// Why a worker cannot talk to its controller, when the reason is a misconfiguration rather
// than a network fault: gRPC reports a TLS worker against a plaintext controller, a plaintext
// worker against a TLS one and a certificate that does not verify all as "unavailable", and a
// worker would retry them until it gives up. A probe of the controller's port tells them apart.
#pragma once

#include <string>

namespace actsearch::worker {

enum class ControllerSpeaks {
  kUnknown,        // nothing listens, a timeout, an address the probe cannot parse
  kPlaintextGrpc,  // answered the HTTP/2 preface with its settings
  kSomethingElse,  // a listener that closed on the preface: TLS (or not a controller)
};

// Connects to `address` (HOST:PORT or [IPV6]:PORT), sends HTTP/2's connection preface and
// reads the first answer, within about `timeout_seconds`.
ControllerSpeaks ProbeController(const std::string& address, double timeout_seconds = 2);

// What is wrong, for a worker connecting with TLS (`tls_ca_file` set) or without, to a
// controller that answers as `speaks`; empty when the probe says nothing is misconfigured.
std::string DiagnoseConnection(const std::string& address, const std::string& tls_ca_file,
                               ControllerSpeaks speaks);

}  // namespace actsearch::worker
