// options.h: command-line parsing helpers shared by the subcommands.
// Each parser checks the whole value and reports "--flag: why" on failure.
#pragma once
#include <stdint.h>
#include "../runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

CASCADE_MUST_CHECK cascade_status parse_int(const char *flag, const char *text, long long lo, long long hi,
                                            long long *out, cascade_error *err);
CASCADE_MUST_CHECK cascade_status parse_float(const char *flag, const char *text, double lo, double hi, double *out,
                                              cascade_error *err);
// "a,b,c" into up to cap floats, or "lo:hi:step" as an inclusive range.
CASCADE_MUST_CHECK cascade_status parse_float_list(const char *flag, const char *text, double lo, double hi,
                                                   double *out, int cap, int *count, cascade_error *err);

// v in the fewest significant digits that read back as v (%.1g .. %.17g):
// a threshold as it was given (0.9, 0.9999995), never rounded into another
// one (%g prints 0.9999995 as 1, which means "defer every image").
// Thresholds as the backends compare them, float32 (cascade_threshold): none
// in (0.99999994, 1), where every float confidence below 1 is below it, yet
// 1 (which defers all) is not; no two that are one float32 threshold.
CASCADE_MUST_CHECK cascade_status check_thresholds(const char *flag, const double *values, int n, cascade_error *err);
#define NUMBER_TEXT_CAP 32
const char *number_text(double v, char out[NUMBER_TEXT_CAP]);

// A table column's width once it holds text: width, or text's length where
// longer (a model named by a long path widens its column, never shifts its row).
// Lengths in terminal columns, one per UTF-8 character (a model's name is
// valid UTF-8): "résnet" is 6 columns of 7 bytes.
int column_width(int width, const char *text);
int text_columns(const char *text);
// The printf width that pads text to width columns: "%-*s", pad_width(w, text), text.
int pad_width(int width, const char *text);

// "FIRST:END" (0 <= FIRST < END <= 2^31-1): records FIRST..END-1 of a file.
CASCADE_MUST_CHECK cascade_status parse_record_range(const char *flag, const char *text, long long *first,
                                                     long long *end, cascade_error *err);

// CASCADE_EINVAL "FLAG: 'x' is listed twice" for a comma-separated list that names an item twice.
CASCADE_MUST_CHECK cascade_status check_list_unique(const char *flag, const char *text, cascade_error *err);

// OPT_LIST: a comma-separated string ("LIST" in the help), read as OPT_STRING.
typedef enum { OPT_STRING, OPT_LIST, OPT_INT, OPT_FLOAT, OPT_FLAG } option_kind;

// One option of a command: "--name VALUE", "--name=VALUE" or, for flags, "--name".
// target: const char ** (string, list), long long * (int), double * (float), int * (flag).
typedef struct {
    const char *name;
    option_kind kind;
    void *target;
    double lo, hi; // accepted range of numbers
} option_spec;

// Parses argv[0..argc) against specs (terminated by a NULL name, at most
// OPTION_SPECS_MAX of them). Sets *help on --help/-h. An option with a value
// given twice is refused (CASCADE_EINVAL): the second would silently replace
// the first.
#define OPTION_SPECS_MAX 64
CASCADE_MUST_CHECK cascade_status parse_options(const char *command, int argc, char **argv, const option_spec *specs,
                                                int *help, cascade_error *err);

// Matches argv[*i] against "--name" or "--name=value"; sets *value (from the
// next argument when needed, advancing *i). Returns 1 on a match, 0 if not,
// -1 when the value is missing (err set), as it is when the next argument is
// an option ("--x"; such a value must be given as --name=--x).
int option_value(int argc, char **argv, int *i, const char *name, const char **value, cascade_error *err);

#ifdef __cplusplus
}
#endif
