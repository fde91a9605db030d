// version.c: see version.h; the text comes from the build (host/version.cmake).
#include "version.h"
#include "cascade_version.h"

const char *cascade_version(void) { return CASCADE_VERSION " (git " CASCADE_COMMIT ")"; }
