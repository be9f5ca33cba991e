/*
 * GIMP 3 plug-in: Filters > Artistic > Neural Style, procedure plug-in-nst-style, with the same arguments and
 * behaviour as the GIMP 2.10 filter (the dialog's "where selected" switch stands for passing the selection as
 * the mask). Only registration, arguments, progress and the dialog live here; the pixel
 * work and the library calls are shared (nst-gimp-common.c).
 */
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <string.h>

#include "nst-gimp-common.h"

#define PROCEDURE "plug-in-nst-style"
#define BINARY "nst"

typedef struct {
  GimpPlugIn parent_instance;
} Nst;
typedef struct {
  GimpPlugInClass parent_class;
} NstClass;

GType nst_get_type(void) G_GNUC_CONST;
G_DEFINE_TYPE(Nst, nst, GIMP_TYPE_PLUG_IN)
GIMP_MAIN(nst_get_type())

static GList *query_procedures(GimpPlugIn *plug_in) {
  (void)plug_in;
  return g_list_append(NULL, g_strdup(PROCEDURE));
}

static int on_progress(void *user_data, uint32_t step, uint32_t total) {
  (void)user_data;
  gimp_progress_set_text_printf("Neural style: iteration %u of %u", step, total);
  /* GIMP ends the plug-in when its progress is cancelled; a failed update means the same. */
  return !gimp_progress_update((gdouble)step / total);
}

static GimpValueArray *failure(GimpProcedure *procedure, gchar *message) {
  GError *error = g_error_new_literal(g_quark_from_static_string("nst"), 0, message);
  g_free(message);
  return gimp_procedure_new_return_values(procedure, GIMP_PDB_EXECUTION_ERROR, error);
}

static GimpValueArray *run(GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image, GimpDrawable **drawables,
                           GimpProcedureConfig *config, gpointer run_data) {
  (void)run_data;
  if (!drawables || !drawables[0] || drawables[1])
    return failure(procedure, g_strdup("Neural style: select exactly one layer"));
  GimpDrawable *drawable = drawables[0];

  if (run_mode == GIMP_RUN_INTERACTIVE) {
    gimp_ui_init(BINARY);
    GtkWidget *dialog = gimp_procedure_dialog_new(procedure, config, "Neural Style");
    gchar *current = NULL;
    g_object_get(config, "preset", &current, NULL);
    gchar *model_line = nst_gimp_model_line(current && *current ? current : "mosaic");
    g_free(current);
    GtkWidget *model = gimp_procedure_dialog_get_label(GIMP_PROCEDURE_DIALOG(dialog), "model-line", model_line, FALSE,
                                                      FALSE);
    g_free(model_line);
    gtk_label_set_line_wrap(GTK_LABEL(model), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(model), 60);
    gimp_procedure_dialog_fill(GIMP_PROCEDURE_DIALOG(dialog), "preset-list", "style-drawable", "size", "iterations",
                               "strength", "seed", "selection-as-mask", "outside-style-drawable", "model-line", NULL);
    gboolean ok = gimp_procedure_dialog_run(GIMP_PROCEDURE_DIALOG(dialog));
    gtk_widget_destroy(dialog);
    if (!ok) return gimp_procedure_new_return_values(procedure, GIMP_PDB_CANCEL, NULL);
    gchar *chosen = NULL;
    g_object_get(config, "preset-list", &chosen, NULL);
    if (chosen && *chosen) g_object_set(config, "preset", chosen, NULL);
    g_free(chosen);
  }

  NstGimpSettings settings;
  nst_gimp_default_settings(&settings);
  gchar *preset = NULL;
  GimpDrawable *style_drawable = NULL, *mask = NULL, *outside = NULL;
  gboolean selection_as_mask = FALSE;
  g_object_get(config, "preset", &preset, "style-drawable", &style_drawable, "size", &settings.size, "iterations",
               &settings.iterations, "strength", &settings.strength, "seed", &settings.seed, "mask-drawable", &mask,
               "outside-style-drawable", &outside, "selection-as-mask", &selection_as_mask, NULL);
  g_strlcpy(settings.preset, preset ? preset : "mosaic", sizeof settings.preset);
  g_free(preset);
  GimpDrawable *selection = GIMP_DRAWABLE(gimp_image_get_selection(image));
  if (selection_as_mask && run_mode == GIMP_RUN_INTERACTIVE) {
    g_clear_object(&mask);
    mask = g_object_ref(selection);
  }
  if (!mask && run_mode == GIMP_RUN_INTERACTIVE) g_clear_object(&outside);
  gboolean mask_is_selection = mask && gimp_item_get_id(GIMP_ITEM(mask)) == gimp_item_get_id(GIMP_ITEM(selection));

  gchar *error = NULL;
  int cancelled = 0;
  GimpChannel *saved = NULL;
  gimp_image_undo_group_start(image);
  if (mask_is_selection && gimp_selection_is_empty(image)) {
    error = g_strdup("Neural style: the selection is empty, so it cannot be the style's mask");
  } else if (mask_is_selection && outside) {
    /* The selection as the mask between two styles: the whole layer changes, so the selection steps aside. */
    saved = gimp_selection_save(image);
    gimp_selection_none(image);
    g_clear_object(&mask);
    mask = GIMP_DRAWABLE(g_object_ref(saved));
  }
  gint x, y, w, h;
  if (!error && !gimp_drawable_mask_intersect(drawable, &x, &y, &w, &h))
    error = g_strdup("Neural style: the selection does not touch the layer");
  if (!error) {
    GeglBuffer *style = style_drawable ? gimp_drawable_get_buffer(style_drawable) : NULL;
    NstGimpPlacement placement = {NULL, {0, 0, 0, 0}, NULL};
    if (mask) {
      gint layer_x, layer_y, mask_x, mask_y;
      gimp_drawable_get_offsets(drawable, &layer_x, &layer_y);
      gimp_drawable_get_offsets(mask, &mask_x, &mask_y);
      placement.mask = gimp_drawable_get_buffer(mask);
      placement.mask_area = (GeglRectangle){x + layer_x - mask_x, y + layer_y - mask_y, w, h};
    }
    if (outside) placement.outside = gimp_drawable_get_buffer(outside);
    gimp_progress_init("Neural style");
    error = nst_gimp_stylize_and_release(&settings, gimp_drawable_get_buffer(drawable),
                                         gimp_drawable_get_shadow_buffer(drawable), GEGL_RECTANGLE(x, y, w, h), style,
                                         &placement, on_progress, NULL, &cancelled);
    if (!error && !cancelled) {
      gimp_drawable_merge_shadow(drawable, TRUE);
      gimp_drawable_update(drawable, x, y, w, h);
    }
    gimp_progress_end();
  }
  if (saved) {
    gimp_image_select_item(image, GIMP_CHANNEL_OP_REPLACE, GIMP_ITEM(saved));
    gimp_image_remove_channel(image, saved);
  }
  gimp_image_undo_group_end(image);
  g_clear_object(&style_drawable);
  g_clear_object(&mask);
  g_clear_object(&outside);
  if (error) return failure(procedure, error);
  if (cancelled) return gimp_procedure_new_return_values(procedure, GIMP_PDB_CANCEL, NULL);
  if (run_mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
  return gimp_procedure_new_return_values(procedure, GIMP_PDB_SUCCESS, NULL);
}

static GimpProcedure *create_procedure(GimpPlugIn *plug_in, const gchar *name) {
  if (strcmp(name, PROCEDURE) != 0) return NULL;
  GimpProcedure *procedure = gimp_image_procedure_new(plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN, run, NULL, NULL);
  gimp_procedure_set_image_types(procedure, "RGB*, GRAY*");
  gimp_procedure_set_sensitivity_mask(procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label(procedure, "Neural _Style...");
  gimp_procedure_add_menu_path(procedure, "<Image>/Filters/Artistic");
  gimp_procedure_set_documentation(procedure, "Neural style transfer (Gatys et al.) with a style preset",
                                   "Optimises the selection so that its VGG19 features keep the content and take the "
                                   "style of the preset's (or a layer's) image.",
                                   name);
  gimp_procedure_set_attribution(procedure, "nst developers", "nst developers", "2026");

  gimp_procedure_add_string_argument(procedure, "preset", "Preset",
                                     "A bundled name (mosaic, waves, strokes, auvers), a .toml path, or TOML text",
                                     "mosaic", G_PARAM_READWRITE);
  gimp_procedure_add_drawable_argument(procedure, "style-drawable", "Style layer",
                                       "A layer used as the style instead of the preset's images (none: the preset's)",
                                       TRUE, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument(procedure, "size", "Size", "Long side of the working image (16..8192); 0 keeps the preset's",
                                  0, NST_SIZE_MAX, 0, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument(procedure, "iterations", "Iterations", "Optimiser iterations; 0 keeps the preset's",
                                  0, NST_ITERATIONS_MAX, 0, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument(procedure, "strength", "Strength", "Multiplies the preset's style weight",
                                     NST_STRENGTH_MIN, NST_STRENGTH_MAX, 1.0, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument(procedure, "seed", "Seed", "Seed of the noise start; -1 keeps the preset's", -1,
                                  G_MAXINT, -1, G_PARAM_READWRITE);
  gimp_procedure_add_drawable_argument(procedure, "mask-drawable", "Mask",
                                       "A channel or layer, read as grey, white where the style applies (guided Gram "
                                       "matrices); the image's selection uses the selection; none: everywhere",
                                       TRUE, G_PARAM_READWRITE);
  gimp_procedure_add_drawable_argument(procedure, "outside-style-drawable", "Style outside the selection",
                                       "A layer whose style applies where the mask is black (needs a mask and a "
                                       "style layer); none: the content",
                                       TRUE, G_PARAM_READWRITE);
  gimp_procedure_add_boolean_aux_argument(procedure, "selection-as-mask", "Style only where selected",
                                          "The selection is the style's mask (guided Gram matrices)", FALSE,
                                          G_PARAM_READWRITE);

  /* The dialog's preset list: the bundled presets by name. */
  GimpChoice *choice = gimp_choice_new();
  gchar **names = nst_gimp_bundled_preset_names();
  for (gint i = 0; names[i]; ++i) gimp_choice_add(choice, names[i], i, names[i], NULL);
  gimp_procedure_add_choice_aux_argument(procedure, "preset-list", "Preset", "A bundled preset", choice,
                                         names[0] ? names[0] : "mosaic", G_PARAM_READWRITE);
  g_strfreev(names);
  return procedure;
}

/* The plug-in has no translations. */
static gboolean set_i18n(GimpPlugIn *plug_in, const gchar *procedure, gchar **domain, gchar **catalog) {
  (void)plug_in;
  (void)procedure;
  (void)domain;
  (void)catalog;
  return FALSE;
}

static void nst_class_init(NstClass *klass) {
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS(klass);
  plug_in_class->set_i18n = set_i18n;
  plug_in_class->query_procedures = query_procedures;
  plug_in_class->create_procedure = create_procedure;
}

static void nst_init(Nst *nst) { (void)nst; }
