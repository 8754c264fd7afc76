#include "cli/dashboard_command.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/results_commands.h"
#include "cli/serving.h"
#include "cli/usage_error.h"
#include "dashboard/dashboard_api.h"
#include "dashboard/http_server.h"
#include "dashboard/web_assets.h"

namespace actsearch::cli {

int RunDashboardCommand(const std::vector<std::string>& args) {
  CatchStopSignals();
  namespace po = boost::program_options;
  std::string db_path, listen = "127.0.0.1:8080", token_file;
  std::string chart_js = "/usr/share/javascript/chart.js/chart.min.js";
  po::options_description flags("dashboard options");
  // clang-format off
  flags.add_options()
      ("db", po::value(&db_path)->required(), "the results database to serve (read-only)")
      ("listen", po::value(&listen)->default_value(listen),
       "HOST:PORT to serve on; anything but loopback needs a token")
      ("token-file", po::value(&token_file),
       "file whose first line is the token every request must carry (else $ACTSEARCH_TOKEN)")
      ("chart-js", po::value(&chart_js)->default_value(chart_js),
       "Chart.js, from Debian's libjs-chart.js: the pages draw with it");
  // clang-format on
  if (!ParseOptions(args, flags, {},
                    "actsearch dashboard --db F [--listen 127.0.0.1:8080] [options]\n\n"
                    "Serves a results database read-only over HTTP, live while a controller "
                    "writes it:\npages of its searches, leaderboard, candidates and comparisons, "
                    "and the JSON "
                    "API\nthey use under /api/ (docs/dashboard.md). Ctrl-C or SIGTERM "
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
  std::ifstream chart_file(chart_js, std::ios::binary);
  if (!chart_file) {
    std::fprintf(stderr,
                 "actsearch: --chart-js %s: cannot read it (apt-get install libjs-chart.js)\n",
                 chart_js.c_str());
    return kExitFailure;
  }
  const std::string chart_library((std::istreambuf_iterator<char>(chart_file)),
                                  std::istreambuf_iterator<char>());
  const dashboard::DashboardApi api(db_path);
  // The pages and scripts hold no data: only the API needs the token.
  auto public_path = [](const std::string& path) { return path.rfind("/api/", 0) != 0; };
  dashboard::HttpServer server(
      {listen, token, 2, public_path}, [&](const dashboard::HttpRequest& r) {
        if (r.path.rfind("/api/", 0) == 0) return api.Handle(r);
        if (r.path == "/chart.min.js") {
          return dashboard::HttpResponse{200, "text/javascript; charset=utf-8", chart_library};
        }
        if (const dashboard::WebAsset* asset = dashboard::FindWebAsset(r.path)) {
          return dashboard::HttpResponse{200, asset->content_type, asset->body};
        }
        return dashboard::ErrorResponse(404, "no such page: " + r.path);
      });
  std::fprintf(stderr, "dashboard: serving %s read-only on http://%s:%d/ (Ctrl-C stops it)\n",
               db_path.c_str(), listen.substr(0, listen.rfind(':')).c_str(), server.port());
  server.Run(g_stop_signal);
  std::fprintf(stderr, "dashboard: stopped\n");
  return kExitOk;
}

}  // namespace actsearch::cli
