// version.h: the version the binary reports (cascade --version, and the
// JSON outputs' "version"): the project's and the commit it was built from.
#pragma once

// "0.1.0 (git 0dadd0e5f1c2)", "-dirty" after the commit when the tree had
// changes, "unknown" for a build outside a git checkout.
const char *cascade_version(void);
