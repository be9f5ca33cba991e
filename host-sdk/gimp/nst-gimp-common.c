/* Shared by the GIMP 2.10 plug-in and the GEGL operation: see nst-gimp-common.h. */
#define _GNU_SOURCE /* dladdr */
#include "nst-gimp-common.h"

#include <glib.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

void nst_gimp_default_settings(NstGimpSettings *settings) {
  memset(settings, 0, sizeof *settings);
  g_strlcpy(settings->preset, "mosaic", sizeof settings->preset);
  settings->style_drawable = -1;
  settings->strength = 1.0;
  settings->seed = -1;
  settings->outside_style_drawable = -1;
}

/* The library's last message, after `what` when given. GIMP names the plug-in around it, so no prefix. */
static char *last_error(const char *what) {
  size_t length = nst_last_error(NULL, 0);
  char *message = g_malloc(length + 1);
  nst_last_error(message, length + 1);
  if (!what) return message;
  char *text = g_strdup_printf("%s: %s", what, message);
  g_free(message);
  return text;
}

/* A file in the folder of this plug-in (or GEGL module), which ships its presets and nst.toml beside it;
 * NULL when the folder cannot be found. */
static char *beside_plugin(const char *name) {
  char *file = NULL;
#ifdef _WIN32
  /* The module holding this code (the plug-in's .exe, or the GEGL module's DLL), in UTF-8 as GLib wants. */
  HMODULE module = NULL;
  DWORD flags = GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT;
  if (!GetModuleHandleExW(flags, (LPCWSTR)(void *)beside_plugin, &module)) return NULL;
  DWORD capacity = 32768;
  wchar_t *wide = g_new(wchar_t, capacity);
  DWORD length = GetModuleFileNameW(module, wide, capacity);
  if (length > 0 && length < capacity) file = g_utf16_to_utf8((const gunichar2 *)wide, length, NULL, NULL, NULL);
  g_free(wide);
#else
  Dl_info info;
  if (dladdr((void *)beside_plugin, &info) && info.dli_fname) file = g_strdup(info.dli_fname);
#endif
  if (!file) return NULL;
  char *folder = g_path_get_dirname(file);
  char *path = g_build_filename(folder, name, NULL);
  g_free(folder);
  g_free(file);
  return path;
}

/* nst.toml beside this plug-in, if the user keeps one there. */
static char *configuration_file(void) {
  char *path = beside_plugin("nst.toml");
  if (path && g_file_test(path, G_FILE_TEST_IS_REGULAR)) return path;
  g_free(path);
  return NULL;
}

static int compare_names(const void *a, const void *b) {
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

char *nst_gimp_presets_folder(void) {
  char *folder = beside_plugin("presets");
  return folder ? folder : g_strdup("presets (the plug-in's own folder could not be found)");
}

char *nst_gimp_help_uri(void) {
  char *page = beside_plugin("help.html");
  char *uri = page ? g_filename_to_uri(page, NULL, NULL) : NULL;
  g_free(page);
  return uri;
}

char **nst_gimp_bundled_preset_names(void) {
  GPtrArray *names = g_ptr_array_new();
  char *presets = beside_plugin("presets");
  GDir *dir = presets ? g_dir_open(presets, 0, NULL) : NULL;
  for (const char *entry; dir && (entry = g_dir_read_name(dir));) {
    if (g_str_has_suffix(entry, ".toml")) g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 5));
  }
  if (dir) g_dir_close(dir);
  g_free(presets);
  g_ptr_array_sort(names, compare_names);
  g_ptr_array_add(names, NULL);
  return (char **)g_ptr_array_free(names, FALSE);
}

/* One engine per plug-in process: ONNX Runtime and the graphs load once. */
static NstEngine *engine(char **error) {
  static NstEngine *shared = NULL;
  if (shared) return shared;
  if (nst_abi_version() != NST_ABI_VERSION) {
    *error = g_strdup_printf("the nst library has ABI %u, this plug-in needs %u", nst_abi_version(),
                             NST_ABI_VERSION);
    return NULL;
  }
  char *config = configuration_file();
  NstStatus status = config ? nst_engine_create_from_file(config, &shared) : nst_engine_create(NULL, &shared);
  g_free(config);
  if (status != NST_OK) *error = last_error("cannot start the engine");
  return shared;
}

/* The JSON number value of `key` in `json` (the library's own output), or `fallback` when absent or null. */
static double json_number(const char *json, const char *key, double fallback) {
  char *pattern = g_strdup_printf("\"%s\":", key);
  const char *at = strstr(json, pattern);
  size_t skip = strlen(pattern);
  g_free(pattern);
  if (!at) return fallback;
  char *end = NULL;
  double value = g_ascii_strtod(at + skip, &end);
  return end == at + skip ? fallback : value;
}

/* The JSON string value of `key` in `json` (the library's own output: escapes \", \\, \n, \r, \t, \uXXXX), or
 * NULL; free with g_free. */
static char *json_string(const char *json, const char *key) {
  char *pattern = g_strdup_printf("\"%s\":\"", key);
  const char *at = strstr(json, pattern);
  g_free(pattern);
  if (!at) return NULL;
  at = strchr(at + strlen(key) + 3, '"') + 1;
  GString *value = g_string_new(NULL);
  for (; *at && *at != '"'; ++at) {
    if (*at != '\\' || !at[1]) {
      g_string_append_c(value, *at);
      continue;
    }
    ++at;
    switch (*at) {
      case 'n': g_string_append_c(value, '\n'); break;
      case 'r': g_string_append_c(value, '\r'); break;
      case 't': g_string_append_c(value, '\t'); break;
      case 'u': at += strlen(at) >= 5 ? 4 : strlen(at) - 1; g_string_append_c(value, '?'); break;
      default: g_string_append_c(value, *at); break;
    }
  }
  return g_string_free(value, FALSE);
}

/* The describe_preset JSON of `preset` (free with g_free), or NULL and a message in `*error`. */
static char *describe(const char *preset, char **error) {
  NstEngine *handle = engine(error);
  if (!handle) return NULL;
  size_t needed = 0;
  nst_engine_describe_preset(handle, preset, NULL, 0, &needed);
  char *json = g_malloc(needed + 1);
  if (nst_engine_describe_preset(handle, preset, json, needed + 1, &needed) != NST_OK) {
    g_free(json);
    *error = last_error(NULL);
    return NULL;
  }
  return json;
}

NstGimpPresetInfo *nst_gimp_preset_info(const char *preset, char **error) {
  char *json = describe(preset, error);
  if (!json) return NULL;
  NstGimpPresetInfo *info = g_new0(NstGimpPresetInfo, 1);
  info->description = json_string(json, "description");
  info->size = (int)json_number(json, "size", 0);
  info->iterations = (int)json_number(json, "iterations", 0);
  info->style_weight = json_number(json, "style_weight", 0);
  char *summary = json_string(json, "model_summary");
  info->model_line = summary && strstr(summary, "random-weight")
                         ? g_strdup_printf("Model: %s. For the pretrained VGG19, run `nst model fetch`, then set "
                                           "model = \"vgg19\" in nst.toml beside this plug-in (or reinstall with "
                                           "scripts/gimp-install --pretrained).",
                                           summary)
                         : g_strdup_printf("Model: %s", summary ? summary : "unknown");
  g_free(summary);
  g_free(json);
  return info;
}

void nst_gimp_preset_info_free(NstGimpPresetInfo *info) {
  if (!info) return;
  g_free(info->description);
  g_free(info->model_line);
  g_free(info);
}

/* Evaluations per iteration of L-BFGS with its line search, as measured on the bundled presets (1.03-1.05). */
#define EVALUATIONS_PER_ITERATION 1.05

/* Seconds a run of `iterations` at a working size of `width` x `height` is expected to take: the engine's own
 * measured seconds per evaluation (at 128 x 128, once per process), scaled by pixel count; negative when it
 * cannot be measured. */
static double estimate_seconds(const char *preset, int width, int height, int iterations) {
  static char *measured_preset = NULL;
  static double seconds_per_evaluation = -1;
  if (!measured_preset || strcmp(measured_preset, preset) != 0) {
    char *error = NULL;
    NstEngine *handle = engine(&error);
    g_free(error);
    if (!handle) return -1;
    size_t needed = 0;
    nst_engine_benchmark(handle, preset, 128, 1, NULL, 0, &needed);
    char *json = g_malloc(needed + 1);
    NstStatus status = nst_engine_benchmark(handle, preset, 128, 1, json, needed + 1, &needed);
    seconds_per_evaluation = status == NST_OK ? json_number(json, "seconds_per_evaluation", -1) : -1;
    g_free(json);
    g_free(measured_preset);
    measured_preset = g_strdup(preset);
  }
  if (seconds_per_evaluation <= 0) return -1;
  return seconds_per_evaluation * ((double)width * height / (128.0 * 128.0)) * iterations * EVALUATIONS_PER_ITERATION;
}

static char *duration(double seconds) {
  if (seconds < 60) return g_strdup_printf("%.0f s", MAX(1, seconds));
  if (seconds < 3600) return g_strdup_printf("%d min %02d s", (int)seconds / 60, (int)seconds % 60);
  return g_strdup_printf("%d h %02d min", (int)seconds / 3600, (int)seconds / 60 % 60);
}

char *nst_gimp_estimate_text(const char *preset, int width, int height, int side, int iterations) {
  int long_side = MAX(width, height);
  int w = (int)((double)width * side / long_side + 0.5), h = (int)((double)height * side / long_side + 0.5);
  double seconds = estimate_seconds(preset, w, h, iterations);
  char *time = seconds < 0 ? g_strdup("unknown (the engine could not measure this preset)") : duration(seconds);
  char *text = g_strdup_printf("Works at %dx%d%s, %d iterations: about %s on this machine (from the engine's "
                               "measured time per step).",
                               w, h, side >= long_side ? " (the layer's own resolution)"
                                                       : ", then scaled up with the layer's own detail",
                               iterations, time);
  g_free(time);
  return text;
}

char *nst_gimp_preset_text(const NstGimpPresetInfo *info, const char *error) {
  if (!info) {
    char *folder = nst_gimp_presets_folder();
    char *text = g_strdup_printf("This preset cannot be used: %s (presets folder: %s)", error, folder);
    g_free(folder);
    return text;
  }
  char *size = info->size > 0 ? g_strdup_printf("%d px", info->size) : g_strdup("the image's size");
  char *text = g_strdup_printf("%s\nPreset's values: working size %s, %d iterations, style weight %g (strength 1).",
                               info->description && *info->description ? info->description : "(no description)",
                               size, info->iterations, info->style_weight);
  g_free(size);
  return text;
}

char *nst_gimp_preview_note(int width, int height) {
  return g_strdup_printf("Preview: %dx%d, at most %d iterations. The result works at the size above.", width, height,
                         NST_GIMP_PREVIEW_ITERATIONS);
}

char *nst_gimp_help_unavailable(const char *why) {
  return g_strdup_printf("The help page could not be opened%s%s. It is help.html in the plug-in's folder, and the "
                         "\"GIMP\" section of the nst README.",
                         why ? ": " : "", why ? why : "");
}

/* The working long side a run of `settings` uses for an area of `width` x `height` (the preset's size is
 * `preset_size`, 0 when it keeps the content's). */
static int working_side(const NstGimpSettings *settings, int width, int height, int preset_size) {
  int long_side = MAX(width, height);
  if (settings->size > 0) return settings->size;
  if (settings->size == -1 && preset_size > 0) return preset_size;
  return MAX(long_side, NST_SIZE_MIN);
}

/* Why `style` and `placement` cannot go together, or NULL. */
static char *check_placement(GeglBuffer *style, const NstGimpPlacement *placement) {
  GeglBuffer *outside = placement ? placement->outside : NULL;
  if (outside && !placement->mask) return g_strdup("a style for outside the mask needs a mask");
  if (outside && !style) return g_strdup("a style for outside the mask needs a style layer for inside it");
  return NULL;
}

/* Checks the settings for an area of `width` x `height` pixels: ranges, the preset (loads and parses), the
 * placement. NULL when they are fine, else a message. */
static char *check(const NstGimpSettings *settings, int width, int height, GeglBuffer *style,
                   const NstGimpPlacement *placement) {
  int long_side = MAX(width, height);
  if (settings->size == 0 && long_side > NST_SIZE_MAX)
    return g_strdup_printf("the area is %dx%d: its long side is over the %d-pixel working limit, so choose a "
                           "smaller working size (the result is still written at the area's size)",
                           width, height, NST_SIZE_MAX);
  if (settings->size != 0 && settings->size != -1 && (settings->size < NST_SIZE_MIN || settings->size > NST_SIZE_MAX))
    return g_strdup_printf("size %d is outside %d..%d (0: the area's own size, -1: the preset's)", settings->size,
                           NST_SIZE_MIN, NST_SIZE_MAX);
  if (settings->iterations < 0 || settings->iterations > NST_ITERATIONS_MAX)
    return g_strdup_printf("iterations %d is outside %d..%d (0 keeps the preset's)", settings->iterations,
                           NST_ITERATIONS_MIN, NST_ITERATIONS_MAX);
  if (!(settings->strength >= NST_STRENGTH_MIN && settings->strength <= NST_STRENGTH_MAX))
    return g_strdup_printf("strength %g is outside %g..%g", settings->strength, NST_STRENGTH_MIN, NST_STRENGTH_MAX);
  if (settings->seed < -1) return g_strdup_printf("seed %d is neither -1 (the preset's) nor 0 or more", settings->seed);
  char *error = check_placement(style, placement);
  if (error) return error;
  char *json = describe(settings->preset, &error);
  g_free(json);
  return error;
}

typedef struct {
  NstGimpProgress progress;
  void *user_data;
} Relay;

static int32_t relay_progress(void *user_data, uint32_t step, uint32_t total, double loss) {
  (void)loss;
  Relay *relay = user_data;
  return relay->progress && relay->progress(relay->user_data, step, total);
}

/* Runs the library on prepared images; NULL on success or cancel. */
static char *run_library(const NstGimpSettings *settings, const NstOverrides *base, const NstImage *content,
                         const NstImage *styles, size_t style_count, const NstImage *masks, NstImageMut *output,
                         NstGimpProgress progress, void *user_data, int *cancelled) {
  char *error = NULL;
  *cancelled = 0;
  NstEngine *handle = engine(&error);
  if (!handle) return error;
  NstOverrides overrides = *base;
  overrides.seed = settings->seed;
  overrides.style_weight_scale = settings->strength;
  if (masks) {
    overrides.style_masks = masks;
    overrides.style_mask_count = style_count ? style_count : 1;
  }
  Relay relay = {progress, user_data};
  NstStatus status = nst_stylize(handle, settings->preset, &overrides, content, style_count ? styles : NULL,
                                 style_count, output, relay_progress, &relay, NULL);
  *cancelled = status == NST_CANCELLED;
  if (status == NST_OK || status == NST_CANCELLED) return NULL;
  return last_error(NULL);
}

/* RGBA pixels in a precision matching the buffer's own. */
typedef struct {
  const Babl *format;
  NstPixelFormat nst_format;
  size_t bytes_per_pixel;
} Layout;

static Layout layout_for(GeglBuffer *buffer) {
  const Babl *type = babl_format_get_type(gegl_buffer_get_format(buffer), 0);
  if (type == babl_type("u8")) return (Layout){babl_format("R'G'B'A u8"), NST_RGBA8, 4};
  if (type == babl_type("u16")) return (Layout){babl_format("R'G'B'A u16"), NST_RGBA16, 8};
  return (Layout){babl_format("RGBA float"), NST_RGBA_F32_LINEAR, 16};
}

/* `area` of `buffer` at `scale` (1: as it is); `area` is in the scaled coordinates. */
static void *read_area(GeglBuffer *buffer, const Layout *layout, const GeglRectangle *area, double scale) {
  void *pixels = g_malloc((gsize)area->width * area->height * layout->bytes_per_pixel);
  gegl_buffer_get(buffer, area, scale, layout->format, pixels, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  return pixels;
}

static NstImage view_of(void *pixels, const Layout *layout, const GeglRectangle *area) {
  return (NstImage){(uint32_t)area->width, (uint32_t)area->height, (size_t)area->width * layout->bytes_per_pixel,
                    layout->nst_format, pixels};
}

/* `area` scaled by `scale`, at least one pixel each way. */
static GeglRectangle scaled(const GeglRectangle *area, double scale) {
  return (GeglRectangle){(gint)floor(area->x * scale), (gint)floor(area->y * scale),
                         MAX(1, (gint)round(area->width * scale)), MAX(1, (gint)round(area->height * scale))};
}

/* Everything a run reads, prepared from the buffers. */
typedef struct {
  Layout layout;
  GeglRectangle area; /* in the content's (possibly scaled) coordinates */
  void *content;
  void *style_pixels[2];
  NstImage style_views[2];
  size_t style_count;
  guint8 *grey;
  NstImage mask_views[2];
} Inputs;

static void read_inputs(Inputs *in, GeglBuffer *source, const GeglRectangle *area, GeglBuffer *style,
                        const NstGimpPlacement *placement, double scale, const Layout *layout) {
  memset(in, 0, sizeof *in);
  in->layout = *layout;
  in->area = scale == 1.0 ? *area : scaled(area, scale);
  in->content = read_area(source, layout, &in->area, scale);
  GeglBuffer *outside = placement ? placement->outside : NULL;
  GeglBuffer *styles[2] = {style, outside};
  for (int i = 0; i < 2 && styles[i]; ++i, ++in->style_count) {
    const GeglRectangle *extent = gegl_buffer_get_extent(styles[i]);
    in->style_pixels[i] = read_area(styles[i], layout, extent, 1.0);
    in->style_views[i] = view_of(in->style_pixels[i], layout, extent);
  }
  if (placement && placement->mask) {
    /* The grey mask over the area, and its complement when a second style takes the rest. */
    gsize pixels = (gsize)in->area.width * in->area.height;
    GeglRectangle mask_area = scale == 1.0 ? placement->mask_area : scaled(&placement->mask_area, scale);
    mask_area.width = in->area.width;
    mask_area.height = in->area.height;
    in->grey = g_malloc(pixels * (outside ? 2 : 1));
    gegl_buffer_get(placement->mask, &mask_area, scale, babl_format("Y' u8"), in->grey, in->area.width,
                    GEGL_ABYSS_NONE);
    for (gsize i = 0; outside && i < pixels; ++i) in->grey[pixels + i] = 255 - in->grey[i];
    for (size_t i = 0; i < (outside ? 2u : 1u); ++i)
      in->mask_views[i] = (NstImage){(uint32_t)in->area.width, (uint32_t)in->area.height, (size_t)in->area.width,
                                     NST_GRAY8, in->grey + i * pixels};
  }
}

static void free_inputs(Inputs *in) {
  g_free(in->content);
  g_free(in->style_pixels[0]);
  g_free(in->style_pixels[1]);
  g_free(in->grey);
}

struct NstGimpResult {
  Layout layout;
  GeglRectangle area;
  void *pixels;
};

char *nst_gimp_compute(const NstGimpSettings *settings, GeglBuffer *source, const GeglRectangle *area,
                       GeglBuffer *style, const NstGimpPlacement *placement, NstGimpProgress progress,
                       void *user_data, int *cancelled, NstGimpResult **result) {
  *result = NULL;
  *cancelled = 0;
  char *error = check(settings, area->width, area->height, style, placement);
  if (error) return error;
  Layout layout = layout_for(source);
  Inputs in;
  read_inputs(&in, source, area, style, placement, 1.0, &layout);
  NstOverrides overrides;
  nst_overrides_init(&overrides, sizeof overrides);
  /* 0: the area's own size; -1: the preset's; a smaller working size gets the area's own detail back. */
  overrides.size =
      settings->size == -1 ? 0 : (uint32_t)working_side(settings, area->width, area->height, 0);
  overrides.iterations = (uint32_t)settings->iterations;
  overrides.keep_detail = 1;
  void *output = g_malloc((gsize)area->width * area->height * layout.bytes_per_pixel);
  NstImage content_view = view_of(in.content, &layout, &in.area);
  NstImageMut output_view = {content_view.width, content_view.height, content_view.stride, layout.nst_format, output};
  error = run_library(settings, &overrides, &content_view, in.style_views, in.style_count,
                      in.grey ? in.mask_views : NULL, &output_view, progress, user_data, cancelled);
  free_inputs(&in);
  if (error || *cancelled) {
    g_free(output);
    return error;
  }
  *result = g_new(NstGimpResult, 1);
  **result = (NstGimpResult){layout, *area, output};
  return NULL;
}

char *nst_gimp_compute_and_release(const NstGimpSettings *settings, GeglBuffer *source, const GeglRectangle *area,
                                   GeglBuffer *style, const NstGimpPlacement *placement, NstGimpProgress progress,
                                   void *user_data, int *cancelled, NstGimpResult **result) {
  char *error = nst_gimp_compute(settings, source, area, style, placement, progress, user_data, cancelled, result);
  nst_gimp_release(source, style, placement);
  return error;
}

void nst_gimp_release(GeglBuffer *source, GeglBuffer *style, const NstGimpPlacement *placement) {
  /* NULL placement: no mask and no outside style. */
  GeglBuffer *owned[] = {source, style, placement ? placement->mask : NULL, placement ? placement->outside : NULL};
  for (size_t i = 0; i < G_N_ELEMENTS(owned); ++i)
    if (owned[i]) g_object_unref(owned[i]);
}

void nst_gimp_result_write(const NstGimpResult *result, GeglBuffer *target) {
  gegl_buffer_set(target, &result->area, 0, result->layout.format, result->pixels, GEGL_AUTO_ROWSTRIDE);
  gegl_buffer_flush(target);
}

void nst_gimp_result_free(NstGimpResult *result) {
  if (!result) return;
  g_free(result->pixels);
  g_free(result);
}

char *nst_gimp_preview(const NstGimpSettings *settings, GeglBuffer *source, const GeglRectangle *area,
                       GeglBuffer *style, const NstGimpPlacement *placement, int side, int max_iterations,
                       guchar **rgba, int *width, int *height) {
  *rgba = NULL;
  char *error = NULL;
  NstGimpPresetInfo *info = nst_gimp_preset_info(settings->preset, &error);
  if (!info) return error;
  int iterations = settings->iterations > 0 ? settings->iterations : info->iterations;
  nst_gimp_preset_info_free(info);
  error = check_placement(style, placement);
  if (error) return error;

  double scale = MIN(1.0, (double)side / MAX(area->width, area->height));
  Layout layout = {babl_format("R'G'B'A u8"), NST_RGBA8, 4};
  Inputs in;
  read_inputs(&in, source, area, style, placement, scale, &layout);
  NstOverrides overrides;
  nst_overrides_init(&overrides, sizeof overrides);
  overrides.size = (uint32_t)MAX(NST_SIZE_MIN, MAX(in.area.width, in.area.height));
  overrides.iterations = (uint32_t)CLAMP(MIN(iterations, max_iterations), NST_ITERATIONS_MIN, NST_ITERATIONS_MAX);
  overrides.keep_detail = 1;
  guchar *output = g_malloc((gsize)in.area.width * in.area.height * 4);
  NstImage content_view = view_of(in.content, &layout, &in.area);
  NstImageMut output_view = {content_view.width, content_view.height, content_view.stride, NST_RGBA8, output};
  int cancelled = 0;
  error = run_library(settings, &overrides, &content_view, in.style_views, in.style_count,
                      in.grey ? in.mask_views : NULL, &output_view, NULL, NULL, &cancelled);
  *width = in.area.width;
  *height = in.area.height;
  free_inputs(&in);
  if (error) {
    g_free(output);
    return error;
  }
  *rgba = output;
  return NULL;
}
