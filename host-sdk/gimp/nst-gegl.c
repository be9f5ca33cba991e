/*
 * GEGL operation nst:style: neural style transfer as a GEGL filter, a second host of the nst C ABI. Usable from
 * the gegl command-line tool and from GIMP's GEGL tool. The whole input is processed at once (style transfer
 * is not local), so the operation asks for the input's full extent and caches its result.
 */
#include <gegl.h>
#include <gegl-plugin.h>
#include "nst.h" /* the limits the properties use */

#ifdef GEGL_PROPERTIES

property_string(preset, "Preset", "mosaic")
  description("Bundled preset name, .toml path, or TOML text")
property_int(size, "Size", 0)
  description("Working long side in pixels (16..8192); 0: the input's own size; -1: the preset's. A smaller working size is scaled back up with the input's own detail")
  value_range(-1, NST_SIZE_MAX)
property_int(iterations, "Iterations", 0)
  description("Optimiser iterations; 0 keeps the preset's")
  value_range(0, NST_ITERATIONS_MAX)
property_double(strength, "Strength", 1.0)
  description("Multiplies the preset's style weight")
  value_range(NST_STRENGTH_MIN, NST_STRENGTH_MAX)
property_int(seed, "Seed", -1)
  description("Seed of the noise start; -1 keeps the preset's")
  value_range(-1, G_MAXINT)

#else

#define GEGL_OP_FILTER
#define GEGL_OP_NAME nst_style
#define GEGL_OP_C_SOURCE nst-gegl.c

#include "gegl-op.h"
#include "nst-gimp-common.h"

static void prepare(GeglOperation *operation) {
  const Babl *format = babl_format("R'G'B'A float");
  gegl_operation_set_format(operation, "input", format);
  gegl_operation_set_format(operation, "output", format);
}

static GeglRectangle whole_input(GeglOperation *operation) {
  const GeglRectangle *box = gegl_operation_source_get_bounding_box(operation, "input");
  return box ? *box : *GEGL_RECTANGLE(0, 0, 0, 0);
}

static GeglRectangle get_required_for_output(GeglOperation *operation, const gchar *input_pad, const GeglRectangle *roi) {
  (void)input_pad;
  (void)roi;
  return whole_input(operation);
}

static GeglRectangle get_cached_region(GeglOperation *operation, const GeglRectangle *roi) {
  (void)roi;
  return whole_input(operation);
}

static gboolean process(GeglOperation *operation, GeglBuffer *input, GeglBuffer *output, const GeglRectangle *result,
                        gint level) {
  GeglProperties *o = GEGL_PROPERTIES(operation);
  GeglRectangle box = whole_input(operation);
  (void)result;
  (void)level;
  if (box.width <= 0 || box.height <= 0) return TRUE;
  NstGimpSettings settings;
  nst_gimp_default_settings(&settings);
  g_strlcpy(settings.preset, o->preset ? o->preset : "mosaic", sizeof settings.preset);
  settings.size = o->size;
  settings.iterations = o->iterations;
  settings.strength = o->strength;
  settings.seed = o->seed;
  int cancelled = 0;
  NstGimpResult *stylized = NULL;
  char *error = nst_gimp_compute(&settings, input, &box, NULL, NULL, NULL, NULL, &cancelled, &stylized);
  if (stylized) nst_gimp_result_write(stylized, output);
  nst_gimp_result_free(stylized);
  if (error) {
    /* The image passes through unchanged; the message names what was wrong. */
    g_warning("nst:style: %s", error);
    g_free(error);
    gegl_buffer_copy(input, &box, GEGL_ABYSS_NONE, output, &box);
  }
  return TRUE;
}

static void gegl_op_class_init(GeglOpClass *klass) {
  GeglOperationClass *operation_class = GEGL_OPERATION_CLASS(klass);
  GeglOperationFilterClass *filter_class = GEGL_OPERATION_FILTER_CLASS(klass);
  operation_class->prepare = prepare;
  operation_class->get_required_for_output = get_required_for_output;
  operation_class->get_cached_region = get_cached_region;
  operation_class->threaded = FALSE;
  filter_class->process = process;
  gegl_operation_class_set_keys(operation_class, "name", "nst:style", "title", "Neural Style", "categories",
                                "artistic", "description",
                                "Neural style transfer (Gatys et al.) with a style preset, through the nst library",
                                NULL);
}

#endif
