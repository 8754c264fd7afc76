// The dashboard's JSON API over one results database, opened read-only for each request so
// that a live controller's newest commits are seen (the file is in WAL mode) and nothing is
// ever written. Every path and parameter is checked: a bad one gets a 4xx with a message.
//
//   /api/searches                      every search: status (live), trials by state, best,
//                                      proposals and repeats
//   /api/leaderboard?search=S&operators=a,b&state=done,diverged&min_trials=N&min_steps=N&top=N
//                   &format=csv
//   /api/trials?search=S&state=...&contains=TEXT&limit=N
//   /api/trials/ID                     one trial whole: learning curve, worker, timings, error
//   /api/workers?search=S              who is alive, what each trains, children per hour
//   /api/policy?search=S               each policy update (PPO): entropy, baseline, mean reward
//   /api/function?expr=E&from=A&to=B&points=N   f and df/dx at the initial betas
#pragma once

#include <string>

#include "dashboard/http_server.h"

namespace actsearch::dashboard {

class DashboardApi {
 public:
  explicit DashboardApi(std::string db_path) : db_path_(std::move(db_path)) {}
  // Answers a path under /api/; 404 for any other.
  HttpResponse Handle(const HttpRequest& request) const;

 private:
  std::string db_path_;
};

}  // namespace actsearch::dashboard
