// The dashboard's pages, scripts and style sheet (dashboard/web/), compiled into the binary
// by embed_web_assets.cmake so that a dashboard needs no files beside it. Chart.js is the one
// exception: it comes from Debian's libjs-chart.js package (docs/dashboard.md).
#pragma once

#include <string>
#include <vector>

namespace actsearch::dashboard {

struct WebAsset {
  std::string path;  // "/index.html"
  std::string content_type;
  std::string body;
};

const std::vector<WebAsset>& WebAssets();

// The asset served at `path` ("/" is "/index.html"), or null.
inline const WebAsset* FindWebAsset(const std::string& path) {
  const std::string wanted = path == "/" ? "/index.html" : path;
  for (const WebAsset& asset : WebAssets()) {
    if (asset.path == wanted) return &asset;
  }
  return nullptr;
}

}  // namespace actsearch::dashboard
