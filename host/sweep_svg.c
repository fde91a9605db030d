// sweep_svg.c: hand-written SVG of the sweep (see sweep_svg.h).
#include "sweep_svg.h"
#include "options.h" // number_text
#include "../runtime/utf8.h"
#include <math.h>
#include <string.h>

#define WIDTH 980
#define HEIGHT 620
#define LEFT 86    // plot area: x in [LEFT, WIDTH - RIGHT]
#define RIGHT 236  // room for the legend
#define TOP 64
#define BOTTOM 64  // y in [TOP, HEIGHT - BOTTOM]

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};

// U+FFFE and U+FFFF: UTF-8, but no characters of XML 1.0 (a parser stops there).
static int not_xml_char(const char *s, int len) {
    const unsigned char *u = (const unsigned char *)s;
    return len == 3 && u[0] == 0xef && u[1] == 0xbf && u[2] >= 0xbe;
}

static void put_escaped(FILE *f, const char *s) {
    while (*s) {
        int len = utf8_char_length(s);
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if (!len || not_xml_char(s, len)) fputs("&#xFFFD;", f); // not UTF-8 (the file says it is), or not XML's
            else if ((unsigned char)*s >= 0x20 || *s == '\t') fwrite(s, 1, (size_t)len, f); // no control characters in XML 1.0
        }
        s += len ? len : 1;
    }
}

typedef struct {
    double x_lo, x_hi; // log10 of images/s at the plot's edges
    double y_lo, y_hi; // accuracy at the plot's edges
} axes;

static double px(const axes *a, double images_per_s) {
    return LEFT + (log10(images_per_s) - a->x_lo) / (a->x_hi - a->x_lo) * (WIDTH - RIGHT - LEFT);
}
static double py(const axes *a, double q) {
    return HEIGHT - BOTTOM - (q - a->y_lo) / (a->y_hi - a->y_lo) * (HEIGHT - BOTTOM - TOP);
}

static double quality(const sweep_point *p) { return p->accuracy >= 0 ? p->accuracy : p->agreement; }

// 3 significant digits with a k / M suffix: 109826 -> "110k", 2.8e6 -> "2.8M", 29.03 -> "29"
static void format_rate(char *out, size_t cap, double v) {
    const char *suffix = "";
    if (v >= 999.5e3) v /= 1e6, suffix = "M";
    else if (v >= 999.5) v /= 1e3, suffix = "k";
    snprintf(out, cap, "%.3g%s", v, suffix);
}

static void x_axis(FILE *f, const axes *a) {
    // ticks at 1, 2, 5 x 10^k, or at every integer multiple when the range is
    // short; labels at least 40 px apart, the 1, 2, 5 ones placed first
    int use_fine = a->x_hi - a->x_lo < 1.6;
    double labelled[64];
    int n_labelled = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int e = (int)floor(a->x_lo); e <= (int)ceil(a->x_hi); e++)
            for (int m = 1; m <= 9; m++) {
                int coarse = m == 1 || m == 2 || m == 5;
                if (!coarse && !use_fine) continue;
                double v = m * pow(10, e), lv = log10(v), x = px(a, v);
                if (lv < a->x_lo - 1e-9 || lv > a->x_hi + 1e-9) continue;
                if (pass == 0) {
                    fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", x, TOP, x,
                            HEIGHT - BOTTOM);
                    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", x,
                            HEIGHT - BOTTOM, x, HEIGHT - BOTTOM + 5);
                }
                if (coarse != (pass == 0) || n_labelled == 64) continue;
                int crowded = 0;
                for (int k = 0; k < n_labelled; k++) crowded |= fabs(labelled[k] - x) < 40;
                if (crowded) continue;
                labelled[n_labelled++] = x;
                char label[32];
                format_rate(label, sizeof label, v);
                fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x,
                        HEIGHT - BOTTOM + 19, label);
            }
}

static void y_axis(FILE *f, const axes *a) {
    double range = a->y_hi - a->y_lo, step = pow(10, floor(log10(range / 8)));
    if (range / step > 16) step *= 5;
    else if (range / step > 8) step *= 2;
    int decimals = step >= 0.1 ? 1 : step >= 0.01 ? 2 : step >= 0.001 ? 3 : 4;
    // tick k at k * step, not a running sum (no drift); + 0.0: ceil of a tiny negative is -0.0, not a "-0.0" label
    for (double k = ceil(a->y_lo / step - 1e-9), v; (v = k * step + 0.0) <= fmin(a->y_hi, 1) + 1e-12; k++) {
        double y = py(a, v);
        fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", LEFT, y, WIDTH - RIGHT, y);
        fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", LEFT - 5, y, LEFT, y);
        fprintf(f, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", LEFT - 8, y + 4,
                decimals, v);
    }
}

static void diamond(FILE *f, double x, double y, double r, const char *extra) {
    fprintf(f, "<polygon class=\"full\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\"%s/>\n", x, y - r, x + r, y,
            x, y + r, x - r, y, extra);
}

// Axes that hold every point with a margin, and room above the best points
// for the expensive model's label; log scale in images/s.
static axes fit_axes(const sweep_plot *plot) {
    const sweep_point *pts = plot->points;
    double rmin = INFINITY, rmax = 0, qmin = INFINITY, qmax = -INFINITY;
    for (int i = 0; i < plot->n_points; i++) {
        if (!(pts[i].predicted_images_per_s > 0)) continue;
        rmin = fmin(rmin, pts[i].predicted_images_per_s), rmax = fmax(rmax, pts[i].predicted_images_per_s);
        qmin = fmin(qmin, quality(&pts[i])), qmax = fmax(qmax, quality(&pts[i]));
    }
    if (!(rmax > 0)) rmin = 1, rmax = 10, qmin = 0, qmax = 1;
    axes a = {log10(rmin), log10(rmax), qmin, qmax};
    double pad = fmax((a.x_hi - a.x_lo) * 0.06, 0.05);
    a.x_lo -= pad, a.x_hi += pad;
    pad = fmax((a.y_hi - a.y_lo) * 0.06, 0.002);
    a.y_lo = fmax(a.y_lo - pad, 0), a.y_hi = a.y_hi + pad;
    if (a.y_hi - a.y_lo < 0.004) a.y_lo = fmax(a.y_hi - 0.004, 0), a.y_hi = a.y_lo + 0.004; // (no accuracy below 0)
    a.y_hi += (a.y_hi - a.y_lo) * 0.06;
    return a;
}

static void write_header(FILE *f, const sweep_plot *plot) {
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n", WIDTH, HEIGHT, WIDTH, HEIGHT);
    fprintf(f, "<style>\n"
               "  .grid { stroke: #e4e4e4; stroke-width: 1; }\n"
               "  .axis { stroke: #333; stroke-width: 1; }\n"
               "  .tick { font-size: 12px; fill: #333; }\n"
               "  .label { font-size: 14px; fill: #111; }\n"
               "  .title { font-size: 17px; font-weight: bold; fill: #111; }\n"
               "  .subtitle { font-size: 12px; fill: #555; }\n"
               "  .legend { font-size: 13px; fill: #111; }\n"
               "  .halo { stroke: #fff; stroke-width: 4; stroke-linejoin: round; paint-order: stroke; }\n"
               "  .frontier { fill: none; stroke: #111; stroke-width: 1.6; stroke-linejoin: round; }\n"
               "  .full { fill: #111; stroke: #fff; stroke-width: 1; }\n"
               "</style>\n");
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", WIDTH, HEIGHT);
    fprintf(f, "<text class=\"title\" x=\"%d\" y=\"26\">", LEFT);
    put_escaped(f, plot->title ? plot->title : "cascade sweep");
    fprintf(f, "</text>\n");
    if (plot->subtitle) {
        fprintf(f, "<text class=\"subtitle\" x=\"%d\" y=\"46\">", LEFT);
        put_escaped(f, plot->subtitle);
        fprintf(f, "</text>\n");
    }
}

static void write_frame(FILE *f, const axes *a, int labelled) {
    fprintf(f, "<g id=\"axes\">\n");
    x_axis(f, a);
    y_axis(f, a);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n", LEFT, TOP,
            WIDTH - RIGHT - LEFT, HEIGHT - BOTTOM - TOP);
    fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">predicted images/s (log scale)</text>\n",
            (LEFT + WIDTH - RIGHT) / 2, HEIGHT - 18);
    fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 %d %d)\">%s</text>\n",
            22, (TOP + HEIGHT - BOTTOM) / 2, 22, (TOP + HEIGHT - BOTTOM) / 2,
            labelled ? "accuracy" : "agreement with the expensive model");
    fprintf(f, "</g>\n");
}

// The points, one group per cheap model.
static void write_points(FILE *f, const axes *a, const sweep_plot *plot) {
    for (int c = 0; c < plot->n_cheap; c++) {
        fprintf(f, "<g id=\"cheap-%d\" class=\"points\" fill=\"%s\" fill-opacity=\"0.55\">\n", c, palette[c % 8]);
        for (int i = 0; i < plot->n_points; i++) {
            const sweep_point *p = &plot->points[i];
            if (p->cheap != c || !(p->predicted_images_per_s > 0)) continue;
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>", px(a, p->predicted_images_per_s),
                    py(a, quality(p)));
            put_escaped(f, plot->cheap_names[c]);
            char thr[NUMBER_TEXT_CAP], rate[32];
            format_rate(rate, sizeof rate, p->predicted_images_per_s);
            fprintf(f, " @ %s: %.4f, %s images/s, deferred %.4f</title></circle>\n", number_text(p->threshold, thr),
                    quality(p), rate, p->deferred_fraction);
        }
        fprintf(f, "</g>\n");
    }
}

// The Pareto frontier (its points with a predicted rate), fastest first.
static void write_frontier(FILE *f, const axes *a, const sweep_plot *plot) {
    const sweep_point *pts = plot->points;
    int n = plot->n_points, k = 0;
    fprintf(f, "<polyline id=\"frontier\" class=\"frontier\" points=\"");
    for (int i = sweep_frontier_next(pts, n, -1); i >= 0; i = sweep_frontier_next(pts, n, i))
        if (pts[i].predicted_images_per_s > 0)
            fprintf(f, "%s%.1f,%.1f", k++ ? " " : "", px(a, pts[i].predicted_images_per_s), py(a, quality(&pts[i])));
    fprintf(f, "\"/>\n<g id=\"frontier-points\" fill=\"none\" stroke=\"#111\" stroke-width=\"1.2\">\n");
    for (int i = sweep_frontier_next(pts, n, -1); i >= 0; i = sweep_frontier_next(pts, n, i))
        if (pts[i].predicted_images_per_s > 0)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\"/>\n", px(a, pts[i].predicted_images_per_s),
                    py(a, quality(&pts[i])));
    fprintf(f, "</g>\n");
}

// The expensive model alone: a labelled diamond.
static void write_full_alone(FILE *f, const axes *a, const sweep_plot *plot) {
    for (int i = 0; i < plot->n_points; i++) {
        const sweep_point *p = &plot->points[i];
        if (p->cheap >= 0 || !(p->predicted_images_per_s > 0)) continue;
        double x = px(a, p->predicted_images_per_s), y = py(a, quality(p));
        fprintf(f, "<g id=\"full-alone\">\n");
        diamond(f, x, y, 8, "");
        int right_side = x < (LEFT + WIDTH - RIGHT) / 2.0;
        fprintf(f, "<text class=\"legend halo\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x + (right_side ? 12 : -12),
                y + (y < TOP + 20 ? 16 : -8), right_side ? "start" : "end");
        put_escaped(f, plot->full_name);
        char rate[32];
        format_rate(rate, sizeof rate, p->predicted_images_per_s);
        fprintf(f, " alone<title>%.4f, %s images/s</title></text>\n</g>\n", quality(p), rate);
    }
}

static void write_legend(FILE *f, const sweep_plot *plot) {
    int lx = WIDTH - RIGHT + 20, ly = TOP + 12;
    fprintf(f, "<g id=\"legend\">\n");
    fprintf(f, "<text class=\"legend\" x=\"%d\" y=\"%d\" font-weight=\"bold\">cheap model</text>\n", lx, ly);
    for (int c = 0; c < plot->n_cheap; c++) {
        ly += 22;
        fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/>\n", lx + 6, ly - 4, palette[c % 8]);
        fprintf(f, "<text class=\"legend\" x=\"%d\" y=\"%d\">", lx + 18, ly);
        put_escaped(f, plot->cheap_names[c]);
        fprintf(f, "</text>\n");
    }
    ly += 30;
    fprintf(f, "<line class=\"frontier\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", lx - 2, ly - 4, lx + 14, ly - 4);
    fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"4.5\" fill=\"none\" stroke=\"#111\" stroke-width=\"1.2\"/>\n", lx + 6,
            ly - 4);
    fprintf(f, "<text class=\"legend\" x=\"%d\" y=\"%d\">Pareto frontier</text>\n", lx + 18, ly);
    ly += 24;
    diamond(f, lx + 6, ly - 4, 7, "");
    fprintf(f, "<text class=\"legend\" x=\"%d\" y=\"%d\">", lx + 18, ly);
    put_escaped(f, plot->full_name);
    fprintf(f, " alone</text>\n");
    fprintf(f, "</g>\n");
}

void sweep_write_svg(FILE *f, const sweep_plot *plot) {
    axes a = fit_axes(plot);
    write_header(f, plot);
    write_frame(f, &a, plot->n_points > 0 && plot->points[0].accuracy >= 0);
    write_points(f, &a, plot);
    write_frontier(f, &a, plot);
    write_full_alone(f, &a, plot);
    write_legend(f, plot);
    fprintf(f, "</svg>\n");
}
