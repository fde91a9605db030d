// sweep_svg.h: the sweep's plot as a self-contained SVG file: accuracy (or
// agreement, without labels) against predicted images/s on a log axis, one
// colour per cheap model, the Pareto frontier as a line, the expensive
// model alone as a labelled black diamond.
#pragma once
#include <stdio.h>
#include "sweep.h"

typedef struct {
    const sweep_point *points;    // as sweep_evaluate wrote them
    int n_points;
    const char *const *cheap_names; // n_cheap names, indexed by sweep_point.cheap
    int n_cheap;
    const char *full_name;
    const char *title;
    const char *subtitle;         // data, images, backend; may be NULL
} sweep_plot;

#ifdef __cplusplus
extern "C" {
#endif

void sweep_write_svg(FILE *f, const sweep_plot *plot);

#ifdef __cplusplus
}
#endif
