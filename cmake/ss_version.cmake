# Writes ss_version.h with the project version plus `git describe`, at build
# time (so --version names the commit that was built, not the one cmake was
# configured at). Rewrites the header only when the text changes.
# In: SRC (the source dir), OUT (the header), VERSION (the project version).
set(text "${VERSION}")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${SRC}/.git")
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --tags
                  WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE describe
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(describe)
    set(text "${VERSION} (${describe})")
  endif()
endif()
set(header "/* Generated at build time by cmake/ss_version.cmake: the version --version prints. */
#ifndef SS_VERSION_H
#define SS_VERSION_H

#define SS_VERSION \"${text}\"

#endif
")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${header}")
  file(WRITE "${OUT}" "${header}")
endif()
