# actsearch_warnings: the project's own code builds clean with -Wall -Wextra.
add_library(actsearch_warnings INTERFACE)
target_compile_options(actsearch_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter)
option(ACTSEARCH_WERROR "Treat warnings as errors" OFF)
if(ACTSEARCH_WERROR)
  target_compile_options(actsearch_warnings INTERFACE -Werror)
endif()
