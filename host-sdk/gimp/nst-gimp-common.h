/*
 * What the GIMP 2.10 plug-in and the GEGL operation share: calling the nst C ABI on a region of pixels, with progress and
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
  int32_t size;        /* working long side: 0 the area's own size, -1 the preset's, else 16..8192 */
  int32_t iterations;  /* 1..10000; 0 keeps the preset's */
  double strength;     /* multiplies the preset's style weight; 1 keeps it */
  int32_t seed;        /* noise seed; -1 keeps the preset's */
  int32_t selection_as_mask; /* 1: the style applies only inside the selection */
  int32_t outside_style_drawable; /* a layer whose style applies outside the mask, or -1 */
} NstGimpSettings;

/* Spatial control: where the style goes (guided Gram matrices, Gatys et al. 2017). */
typedef struct {
  GeglBuffer *mask;        /* grey, white where the style applies; NULL: the style everywhere */
  GeglRectangle mask_area; /* the part of `mask` lying over the stylized area */
  GeglBuffer *outside;     /* a second style, applied where the mask is black; NULL: none */
} NstGimpPlacement;

/* What a preset sets, for the dialog. */
typedef struct {
  char *description; /* free with g_free */
  int size;          /* working long side, 0 when the preset keeps the content's size */
  int iterations;
  double style_weight;
  char *model_line;  /* the model that will run, with a hint when it is the random built-in one */
} NstGimpPresetInfo;

void nst_gimp_default_settings(NstGimpSettings *settings);

/* Called after each iteration; returns non-zero to cancel. */
typedef int (*NstGimpProgress)(void *user_data, uint32_t step, uint32_t total);

/* A stylized area held in memory: the long run ends before the image is touched, so a cancelled or failed
 * run leaves nothing behind, and the write is quick. */
typedef struct NstGimpResult NstGimpResult;

/*
 * Checks the settings (ranges, the preset, the placement), then stylizes `area` of `source` with `settings`; `style` (may be NULL) is used whole, placed by `placement`
 * (may be NULL: everywhere). Pixels travel as RGBA in the source's precision: 8-bit, 16-bit, or float (linear)
 * for anything wider. The working size is the area's own unless the settings pick another, in which case the
 * area's fine detail is added back onto the scaled-up result. Returns NULL and sets `*result` on success
 * (`*result` stays NULL when cancelled), else a message (free with g_free).
 */
char *nst_gimp_compute(const NstGimpSettings *settings, GeglBuffer *source, const GeglRectangle *area,
                       GeglBuffer *style, const NstGimpPlacement *placement, NstGimpProgress progress,
                       void *user_data, int *cancelled, NstGimpResult **result);

/* nst_gimp_compute, then releases `source`, `style` and the placement's buffers. */
char *nst_gimp_compute_and_release(const NstGimpSettings *settings, GeglBuffer *source, const GeglRectangle *area,
                                   GeglBuffer *style, const NstGimpPlacement *placement, NstGimpProgress progress,
                                   void *user_data, int *cancelled, NstGimpResult **result);

/* Releases the buffer references a run was given; any may be NULL. */
void nst_gimp_release(GeglBuffer *source, GeglBuffer *style, const NstGimpPlacement *placement);

/* Writes the result into `target` (a shadow buffer or an operation's output) over the area it came from. */
void nst_gimp_result_write(const NstGimpResult *result, GeglBuffer *target);
void nst_gimp_result_free(NstGimpResult *result);

/*
 * A quick look: stylizes `area` of `source` scaled down to a long side of `side` pixels with at most
 * `max_iterations` iterations. Returns NULL and sets `*rgba` (RGBA8, `*width` x `*height`, free with g_free)
 * on success, else a message.
 */
char *nst_gimp_preview(const NstGimpSettings *settings, GeglBuffer *source, const GeglRectangle *area,
                       GeglBuffer *style, const NstGimpPlacement *placement, int side, int max_iterations,
                       guchar **rgba, int *width, int *height);

/* The preset's description and values (NULL and a message in `*error` when it does not load). */
NstGimpPresetInfo *nst_gimp_preset_info(const char *preset, char **error);
void nst_gimp_preset_info_free(NstGimpPresetInfo *info);

/* The dialog's texts (free each with g_free). */
#define NST_GIMP_PREVIEW_SIDE 192
#define NST_GIMP_PREVIEW_ITERATIONS 40
/* "Works at WxH ...: about T on this machine" for a working long side `side` over an area of width x height. */
char *nst_gimp_estimate_text(const char *preset, int width, int height, int side, int iterations);
/* The preset's description and values, or why it cannot be used. */
char *nst_gimp_preset_text(const NstGimpPresetInfo *info, const char *error);
/* What the preview shows. */
char *nst_gimp_preview_note(int width, int height);
/* What to say when the help page cannot be opened (`why` may be NULL). */
char *nst_gimp_help_unavailable(const char *why);

/* The presets folder beside this plug-in (free with g_free). */
char *nst_gimp_presets_folder(void);

/* The bundled preset names from the presets folder beside this plug-in, without loading the engine (for
 * menus built at registration); NULL-terminated, free with g_strfreev. */
char **nst_gimp_bundled_preset_names(void);

/* The help page beside this plug-in, as a file:// URI (free with g_free). */
char *nst_gimp_help_uri(void);

#endif
