/* Shared by the GIMP 2.10 and GIMP 3 plug-ins: see nst-gimp-common.h. */
#define _GNU_SOURCE /* dladdr */
#include "nst-gimp-common.h"

#include <dlfcn.h>
#include <glib.h>
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

static char *last_error(const char *what) {
  size_t length = nst_last_error(NULL, 0);
  char *message = g_malloc(length + 1);
  nst_last_error(message, length + 1);
  char *text = g_strdup_printf("Neural style: %s: %s", what, message);
  g_free(message);
  return text;
}

/* A file in the folder of this plug-in (or GEGL module), which ships its presets and nst.toml beside it;
 * NULL when the folder cannot be found. */
static char *beside_plugin(const char *name) {
  Dl_info info;
  if (!dladdr((void *)beside_plugin, &info) || !info.dli_fname) return NULL;
  char *folder = g_path_get_dirname(info.dli_fname);
  char *path = g_build_filename(folder, name, NULL);
  g_free(folder);
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
    *error = g_strdup_printf("Neural style: the nst library has ABI %u, this plug-in needs %u", nst_abi_version(),
                             NST_ABI_VERSION);
    return NULL;
  }
  char *config = configuration_file();
  NstStatus status = config ? nst_engine_create_from_file(config, &shared) : nst_engine_create(NULL, &shared);
  g_free(config);
  if (status != NST_OK) *error = last_error("cannot start the engine");
  return shared;
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

char *nst_gimp_model_line(const char *preset) {
  char *error = NULL;
  NstEngine *handle = engine(&error);
  if (!handle) return error;
  size_t needed = 0;
  nst_engine_describe_preset(handle, preset, NULL, 0, &needed);
  char *json = g_malloc(needed + 1);
  NstStatus status = nst_engine_describe_preset(handle, preset, json, needed + 1, &needed);
  char *summary = status == NST_OK ? json_string(json, "model_summary") : NULL;
  g_free(json);
  if (!summary) return last_error("cannot describe the preset");
  char *line = strstr(summary, "random-weight")
                   ? g_strdup_printf("Model: %s. For the pretrained VGG19, run `nst model fetch`, then set model = "
                                     "\"vgg19\" in nst.toml beside this plug-in (or reinstall with "
                                     "scripts/gimp-install --pretrained).",
                                     summary)
                   : g_strdup_printf("Model: %s", summary);
  g_free(summary);
  return line;
}

typedef struct {
  NstGimpProgress progress;
  void *user_data;
  int cancelled;
} Relay;

static int32_t relay_progress(void *user_data, uint32_t step, uint32_t total, double loss) {
  (void)loss;
  Relay *relay = user_data;
  if (relay->progress && relay->progress(relay->user_data, step, total)) {
    relay->cancelled = 1;
    return 1;
  }
  return 0;
}

char *nst_gimp_stylize(const NstGimpSettings *settings, const NstImage *content, const NstImage *styles,
                       size_t style_count, const NstImage *masks, NstImageMut *output, NstGimpProgress progress,
                       void *user_data, int *cancelled) {
  char *error = NULL;
  *cancelled = 0;
  NstEngine *handle = engine(&error);
  if (!handle) return error;

  NstOverrides overrides;
  nst_overrides_init(&overrides, sizeof overrides);
  if (settings->size != 0 && (settings->size < NST_SIZE_MIN || settings->size > NST_SIZE_MAX))
    return g_strdup_printf("Neural style: size %d is outside %d..%d (0 keeps the preset's)", settings->size,
                           NST_SIZE_MIN, NST_SIZE_MAX);
  if (!(settings->strength >= NST_STRENGTH_MIN && settings->strength <= NST_STRENGTH_MAX))
    return g_strdup_printf("Neural style: strength %g is outside %g..%g", settings->strength, NST_STRENGTH_MIN,
                           NST_STRENGTH_MAX);
  overrides.size = (uint32_t)settings->size;
  overrides.iterations = settings->iterations > 0 ? (uint32_t)settings->iterations : 0;
  overrides.seed = settings->seed;
  overrides.style_weight_scale = settings->strength;

  if (masks) {
    overrides.style_masks = masks;
    overrides.style_mask_count = style_count ? style_count : 1;
  }

  Relay relay = {progress, user_data, 0};
  NstStatus status = nst_stylize(handle, settings->preset, &overrides, content, style_count ? styles : NULL,
                                 style_count, output, relay_progress, &relay, NULL);
  *cancelled = status == NST_CANCELLED;
  if (status == NST_OK || status == NST_CANCELLED) return NULL;
  return last_error("failed");
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

static void *read_area(GeglBuffer *buffer, const Layout *layout, const GeglRectangle *area) {
  void *pixels = g_malloc((gsize)area->width * area->height * layout->bytes_per_pixel);
  gegl_buffer_get(buffer, area, 1.0, layout->format, pixels, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  return pixels;
}

static NstImage view_of(void *pixels, const Layout *layout, const GeglRectangle *area) {
  return (NstImage){(uint32_t)area->width, (uint32_t)area->height, (size_t)area->width * layout->bytes_per_pixel,
                    layout->nst_format, pixels};
}

/* The grey mask over the stylized area, and its complement when a second style takes the rest. */
static guint8 *read_masks(const NstGimpPlacement *placement, const GeglRectangle *area, int with_complement) {
  gsize pixels = (gsize)area->width * area->height;
  guint8 *grey = g_malloc(pixels * (with_complement ? 2 : 1));
  gegl_buffer_get(placement->mask, &placement->mask_area, 1.0, babl_format("Y' u8"), grey, area->width,
                  GEGL_ABYSS_NONE);
  for (gsize i = 0; with_complement && i < pixels; ++i) grey[pixels + i] = 255 - grey[i];
  return grey;
}

char *nst_gimp_stylize_buffers(const NstGimpSettings *settings, GeglBuffer *source, GeglBuffer *shadow,
                               const GeglRectangle *area, GeglBuffer *style, const NstGimpPlacement *placement,
                               NstGimpProgress progress, void *user_data, int *cancelled) {
  GeglBuffer *outside = placement ? placement->outside : NULL;
  int masked = placement && placement->mask;
  if (outside && !masked) return g_strdup("Neural style: a style for outside the mask needs a mask");
  if (outside && !style)
    return g_strdup("Neural style: a style for outside the mask needs a style layer for inside it");

  Layout layout = layout_for(source);
  void *content = read_area(source, &layout, area);
  void *output = g_malloc((gsize)area->width * area->height * layout.bytes_per_pixel);
  NstImage content_view = view_of(content, &layout, area);
  NstImageMut output_view = {content_view.width, content_view.height, content_view.stride, layout.nst_format, output};
  void *style_pixels[2] = {NULL, NULL};
  NstImage style_views[2];
  GeglBuffer *style_buffers[2] = {style, outside};
  size_t style_count = 0;
  for (int i = 0; i < 2 && style_buffers[i]; ++i, ++style_count) {
    const GeglRectangle *extent = gegl_buffer_get_extent(style_buffers[i]);
    style_pixels[i] = read_area(style_buffers[i], &layout, extent);
    style_views[i] = view_of(style_pixels[i], &layout, extent);
  }
  guint8 *grey = masked ? read_masks(placement, area, outside != NULL) : NULL;
  NstImage mask_views[2];
  for (size_t i = 0; grey && i < (outside ? 2 : 1); ++i)
    mask_views[i] = (NstImage){(uint32_t)area->width, (uint32_t)area->height, (size_t)area->width, NST_GRAY8,
                               grey + i * (gsize)area->width * area->height};
  char *error = nst_gimp_stylize(settings, &content_view, style_views, style_count, grey ? mask_views : NULL,
                                 &output_view, progress, user_data, cancelled);
  if (!error && !*cancelled) {
    gegl_buffer_set(shadow, area, 0, layout.format, output, GEGL_AUTO_ROWSTRIDE);
    gegl_buffer_flush(shadow);
  }
  g_free(content);
  g_free(output);
  g_free(style_pixels[0]);
  g_free(style_pixels[1]);
  g_free(grey);
  return error;
}

char *nst_gimp_stylize_and_release(const NstGimpSettings *settings, GeglBuffer *source, GeglBuffer *shadow,
                                   const GeglRectangle *area, GeglBuffer *style, const NstGimpPlacement *placement,
                                   NstGimpProgress progress, void *user_data, int *cancelled) {
  char *error =
      nst_gimp_stylize_buffers(settings, source, shadow, area, style, placement, progress, user_data, cancelled);
  g_object_unref(shadow);
  g_object_unref(source);
  /* NULL placement: no mask and no outside style, as nst_gimp_stylize_buffers takes it. */
  GeglBuffer *others[] = {style, placement ? placement->mask : NULL, placement ? placement->outside : NULL};
  for (size_t i = 0; i < G_N_ELEMENTS(others); ++i)
    if (others[i]) g_object_unref(others[i]);
  return error;
}
