#include "cli/dashboard_command.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/results_commands.h"
#include "cli/serving.h"
#include "cli/usage_error.h"
#include "dashboard/dashboard_api.h"
#include "dashboard/http_server.h"

namespace actsearch::cli {

int RunDashboardCommand(const std::vector<std::string>& args) {
  CatchStopSignals();
  namespace po = boost::program_options;
  std::string db_path, listen = "127.0.0.1:8080", token_file;
  po::options_description flags("dashboard options");
  // clang-format off
  flags.add_options()
      ("db", po::value(&db_path)->required(), "the results database to serve (read-only)")
      ("listen", po::value(&listen)->default_value(listen),
       "HOST:PORT to serve on; anything but loopback needs a token")
      ("token-file", po::value(&token_file),
       "file whose first line is the token every request must carry (else $ACTSEARCH_TOKEN)");
  // clang-format on
  if (!ParseOptions(args, flags, {},
                    "actsearch dashboard --db F [--listen 127.0.0.1:8080] [options]\n\n"
                    "Serves a results database read-only over HTTP, live while a controller "
                    "writes it:\na JSON API under /api/ (docs/dashboard.md). Ctrl-C or SIGTERM "
                    "stops it.\n\nExit codes: 0 stopped, 1 failure (the database does not "
                    "open, the address is taken), 2 usage error",
                    "  actsearch dashboard --db results.db\n"
                    "  curl 'http://127.0.0.1:8080/api/leaderboard?search=proxy&top=5'\n")) {
    return kExitOk;
  }
  const std::string token = ReadToken(token_file);
  if (!IsLoopbackListenAddress(listen) && token.empty()) {
    throw UsageError("--listen " + listen +
                     ": serving beyond loopback needs a token (--token-file or $" + kTokenVariable +
                     ")");
  }
  OpenForReading(db_path);  // a database that does not open fails now, not per request
  const dashboard::DashboardApi api(db_path);
  dashboard::HttpServer server({listen, token, 2}, [&api](const dashboard::HttpRequest& r) {
    if (r.path == "/" || r.path == "/api" || r.path == "/api/") {
      return dashboard::HttpResponse{
          200, "application/json",
          nlohmann::json{{"endpoints",
                          {"/api/searches", "/api/leaderboard", "/api/trials", "/api/trials/ID",
                           "/api/function"}}}
              .dump()};
    }
    return api.Handle(r);
  });
  std::fprintf(stderr, "dashboard: serving %s read-only on http://%s:%d/ (Ctrl-C stops it)\n",
               db_path.c_str(), listen.substr(0, listen.rfind(':')).c_str(), server.port());
  server.Run(g_stop_signal);
  std::fprintf(stderr, "dashboard: stopped\n");
  return kExitOk;
}

}  // namespace actsearch::cli
