/*
 * What every GIMP version's nst plug-in shares: calling the nst C ABI on a region of pixels, with progress and
 * cancellation glue, and reading a preset's summary. The version-specific files only register the procedure,
 * read its arguments, move pixels between GEGL buffers and these functions, and show the dialog.
 */
#ifndef NST_GIMP_COMMON_H
#define NST_GIMP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <gegl.h>

#include "nst.h"

/* The procedure's settings, kept between runs (plain data: GIMP stores it as bytes). */
typedef struct {
  char preset[1024];   /* bundled name, .toml path, or TOML text */
  int32_t style_drawable; /* a layer used as the style, or -1 */
  int32_t size;        /* working long side, 16..8192; 0 keeps the preset's */
  int32_t iterations;  /* 1..10000; 0 keeps the preset's */
  double strength;     /* multiplies the preset's style weight; 1 keeps it */
  int32_t seed;        /* noise seed; -1 keeps the preset's */
  int32_t selection_as_mask; /* 1: the style applies where the selection is (guided Gram matrices) */
  int32_t outside_style_drawable; /* a layer whose style applies outside the mask, or -1 */
} NstGimpSettings;

/* Spatial control: where the style goes (guided Gram matrices, Gatys et al. 2017). */
typedef struct {
  GeglBuffer *mask;        /* grey, white where the style applies; NULL: the style everywhere */
  GeglRectangle mask_area; /* the part of `mask` lying over the stylized area */
  GeglBuffer *outside;     /* a second style, applied where the mask is black; NULL: none */
} NstGimpPlacement;

void nst_gimp_default_settings(NstGimpSettings *settings);

/* Called after each iteration; returns non-zero to cancel. */
typedef int (*NstGimpProgress)(void *user_data, uint32_t step, uint32_t total);

/*
 * Stylizes `content` into `output` (same geometry) with `settings` and `style_count` style images (0: the
 * preset's), each with its mask when `masks` is not NULL. Returns NULL on success, else a message owned by the
 * caller (free with g_free) that carries the plug-in library's text. `cancelled` is set when the progress
 * function asked to stop.
 */
char *nst_gimp_stylize(const NstGimpSettings *settings, const NstImage *content, const NstImage *styles,
                       size_t style_count, const NstImage *masks, NstImageMut *output, NstGimpProgress progress,
                       void *user_data, int *cancelled);

/*
 * Stylizes `area` of `source` into `shadow` (GIMP's shadow buffer, or a GEGL operation's output) with
 * `settings`; `style` (may be NULL) is used whole, placed by `placement` (may be NULL: everywhere). Pixels
 * travel as RGBA in the source's precision: 8-bit, 16-bit, or float (linear) for anything wider, so 16-bit and
 * float images keep their precision. `shadow` is written only on success. Returns NULL on success, else a message (free with g_free).
 */
char *nst_gimp_stylize_buffers(const NstGimpSettings *settings, GeglBuffer *source, GeglBuffer *shadow,
                               const GeglRectangle *area, GeglBuffer *style, const NstGimpPlacement *placement,
                               NstGimpProgress progress, void *user_data, int *cancelled);

/* nst_gimp_stylize_buffers, then releases `source`, `shadow`, `style` and the placement's buffers: the plug-ins
 * hand over the references they took for the run. */
char *nst_gimp_stylize_and_release(const NstGimpSettings *settings, GeglBuffer *source, GeglBuffer *shadow,
                                   const GeglRectangle *area, GeglBuffer *style, const NstGimpPlacement *placement,
                                   NstGimpProgress progress, void *user_data, int *cancelled);

/* A line for the dialog naming the model a run of `preset` will use, with a hint when it is the built-in
 * random-weight network (free with g_free). */
char *nst_gimp_model_line(const char *preset);

/* The bundled preset names from the presets folder beside this plug-in, without loading the engine (for
 * menus built at registration); NULL-terminated, free with g_strfreev. */
char **nst_gimp_bundled_preset_names(void);

#endif
