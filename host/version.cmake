# version.cmake: writes OUT, the header of the version the binary reports
# (host/version.c): VERSION, and the commit the build was made from
# (git describe of SRC; "unknown" outside a git checkout). Run at every
# build (the cascade_version target); OUT changes only when its text does,
# so an unchanged tree rebuilds nothing.
execute_process(COMMAND git -C "${SRC}" describe --always --dirty --abbrev=12
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
if(failed OR commit STREQUAL "")
  set(commit "unknown")
endif()
set(text "#define CASCADE_VERSION \"${VERSION}\"\n#define CASCADE_COMMIT \"${commit}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
