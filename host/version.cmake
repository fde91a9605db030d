# version.cmake: writes OUT, the header of the version the binary reports
# (host/version.c): VERSION, and the commit the build was made from
# (GIT describe of SRC, the hash alone whatever the tags; "unknown" where SRC
# is not the top of its own checkout: an export, also one unpacked inside
# another repository, whose commit is not ours). Run at every build (the
# cascade_version target); OUT changes only when its text does, so an
# unchanged tree rebuilds nothing.
set(commit "unknown")
if(GIT)
  execute_process(COMMAND "${GIT}" -C "${SRC}" rev-parse --show-toplevel
                  OUTPUT_VARIABLE top OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
  if(NOT failed)
    file(REAL_PATH "${top}" top)
    file(REAL_PATH "${SRC}" src)
  endif()
  if(NOT failed AND top STREQUAL src)
    execute_process(COMMAND "${GIT}" -C "${SRC}" describe --always --dirty --abbrev=12 --exclude=*
                    OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
    if(NOT failed AND NOT described STREQUAL "")
      set(commit "${described}")
    endif()
  endif()
endif()
set(text "#define CASCADE_VERSION \"${VERSION}\"\n#define CASCADE_COMMIT \"${commit}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
