/* The figures of `regrad study`, drawn by gnuplot: the program writes a
 * self-contained script (data blocks included) to <dir>/figures.gp and runs
 * gnuplot on it, which writes each figure as PNG (pngcairo, or png when cairo
 * is missing) and SVG. The program named by the environment variable
 * REGRAD_GNUPLOT is used instead of "gnuplot" when set. */
#ifndef RG_TOOLS_STUDY_PLOT_H
#define RG_TOOLS_STUDY_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "study_agg.h"

typedef struct study_figure {
  const char *name; /* file name without extension */
  const char *title;
  const char *caption;
} study_figure;

int study_figure_count(void);
const study_figure *study_figure_at(int i);

/* Draws every figure into dir from the regimes' seeds (classes sets the
 * chance line). Returns false, with why not in note
 * (e.g. "gnuplot was not found on PATH"), when they could not all be drawn; never stops the study.
 */
bool study_plot(const char *dir, const study_agg *runs, int n, const int *order, int classes,
                char *note, size_t note_size);

#endif
