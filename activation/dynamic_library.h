// Libraries loaded at run time rather than linked (NVRTC, the CUDA driver): a build that has
// their headers still runs where they are missing, and says so only when they are needed.
#pragma once

#include <dlfcn.h>

#include <initializer_list>
#include <string>

namespace actsearch {

// The first of `names` that opens, or nullptr.
inline void* OpenFirstLibrary(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (void* library = dlopen(name, RTLD_NOW | RTLD_GLOBAL)) return library;
  }
  return nullptr;
}

// Looks `name` up in `library` into `function`; if it is missing, the first such problem is
// kept in `problem` ("<owner> lacks <name>").
template <class F>
void ResolveFunction(void* library, const char* name, F& function, std::string& problem,
                     const char* owner) {
  function = reinterpret_cast<F>(dlsym(library, name));
  if (!function && problem.empty()) problem = std::string(owner) + " lacks " + name;
}

}  // namespace actsearch
