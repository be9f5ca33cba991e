/*
 * GIMP 2.10 plug-in: Filters > Artistic > Neural Style, procedure plug-in-nst-style.
 *
 * Works on the selection's bounding box through the shadow buffer (so the change is undoable and limited to
 * the selection), or, when the selection is the mask between two styles, on the whole layer. Keeps alpha, and
 * handles RGB, RGBA and grey images at 8-bit, 16-bit and float precision (the pixel work is shared with the
 * GIMP 3 plug-in in nst-gimp-common.c). The nst library, ONNX Runtime, the
 * presets and nst.toml sit beside this executable.
 */
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <string.h>

#include "nst-gimp-common.h"

#define PROCEDURE "plug-in-nst-style"
#define BINARY "nst"

static void query(void);
static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals, GimpParam **return_vals);

const GimpPlugInInfo PLUG_IN_INFO = {NULL, NULL, query, run};

MAIN()

static void query(void) {
  static const GimpParamDef args[] = {
      {GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"},
      {GIMP_PDB_IMAGE, "image", "Input image"},
      {GIMP_PDB_DRAWABLE, "drawable", "Input drawable"},
      {GIMP_PDB_STRING, "preset", "Preset: a bundled name (mosaic, waves, strokes, auvers), a .toml path, or TOML text"},
      {GIMP_PDB_DRAWABLE, "style-drawable", "A layer of any open image used as the style instead of the preset's images; -1 for none"},
      {GIMP_PDB_INT32, "size", "Long side of the working image in pixels (16..8192); 0 keeps the preset's"},
      {GIMP_PDB_INT32, "iterations", "Optimiser iterations (1..10000); 0 keeps the preset's"},
      {GIMP_PDB_FLOAT, "strength", "Multiplies the preset's style weight (0..100]; 1 keeps it"},
      {GIMP_PDB_INT32, "seed", "Seed of the noise start; -1 keeps the preset's"},
      {GIMP_PDB_DRAWABLE, "mask-drawable", "A channel or layer, read as grey, white where the style applies (guided Gram matrices); the image's selection channel uses the selection; -1 for none"},
      {GIMP_PDB_DRAWABLE, "outside-style-drawable", "A layer whose style applies where the mask is black (needs a mask and a style layer); -1 for none"},
  };
  static const GimpParamDef return_values[] = {
      {GIMP_PDB_STRING, "message", "What went wrong, when the procedure fails"},
  };
  gimp_install_procedure(PROCEDURE, "Neural style transfer (Gatys et al.) with a style preset",
                         "Optimises the selection so that its VGG19 features keep the content and take the style "
                         "of the preset's (or a layer's) image.",
                         "nst developers", "nst developers", "2026", "Neural _Style...", "RGB*, GRAY*",
                         GIMP_PLUGIN, G_N_ELEMENTS(args), 0, args, NULL);
  (void)return_values;
  gimp_plugin_menu_register(PROCEDURE, "<Image>/Filters/Artistic");
}

static int on_progress(void *user_data, uint32_t step, uint32_t total) {
  (void)user_data;
  gimp_progress_set_text_printf("Neural style: iteration %u of %u", step, total);
  /* GIMP 2.10 ends the plug-in when its progress is cancelled; a failed update means the same. */
  return !gimp_progress_update((gdouble)step / total);
}

static gboolean is_drawable(gint32 id) { return id > 0 && gimp_item_is_valid(id) && gimp_item_is_drawable(id); }

static gchar *stylize_drawable(gint32 image, gint32 drawable, const NstGimpSettings *settings, gint32 mask) {
  gint32 selection = gimp_image_get_selection(image);
  if (settings->selection_as_mask) mask = selection;
  gboolean outside = settings->outside_style_drawable > 0;
  if (mask > 0 && !is_drawable(mask))
    return g_strdup_printf("Neural style: mask-drawable %d is not a channel or layer", mask);
  if (outside && !is_drawable(settings->outside_style_drawable))
    return g_strdup_printf("Neural style: outside-style-drawable %d is not an open layer",
                           settings->outside_style_drawable);
  if (settings->style_drawable > 0 && !is_drawable(settings->style_drawable))
    return g_strdup_printf("Neural style: style-drawable %d is not an open layer", settings->style_drawable);
  if (mask == selection && gimp_selection_is_empty(image))
    return g_strdup("Neural style: the selection is empty, so it cannot be the style's mask");

  /* The selection as the mask between two styles: the whole layer changes, so the selection steps aside. */
  gint32 saved = -1;
  if (mask == selection && outside) {
    saved = gimp_selection_save(image);
    gimp_selection_none(image);
    mask = saved;
  }
  gint x, y, w, h;
  gchar *error = NULL;
  if (!gimp_drawable_mask_intersect(drawable, &x, &y, &w, &h)) {
    error = g_strdup("Neural style: the selection does not touch the layer");
  } else {
    GeglBuffer *style = settings->style_drawable > 0 ? gimp_drawable_get_buffer(settings->style_drawable) : NULL;
    NstGimpPlacement placement = {NULL, {0, 0, 0, 0}, NULL};
    if (mask > 0) {
      gint layer_x, layer_y, mask_x, mask_y;
      gimp_drawable_offsets(drawable, &layer_x, &layer_y);
      gimp_drawable_offsets(mask, &mask_x, &mask_y);
      placement.mask = gimp_drawable_get_buffer(mask);
      placement.mask_area = (GeglRectangle){x + layer_x - mask_x, y + layer_y - mask_y, w, h};
    }
    if (outside) placement.outside = gimp_drawable_get_buffer(settings->outside_style_drawable);
    gimp_progress_init("Neural style");
    int cancelled = 0;
    error = nst_gimp_stylize_and_release(settings, gimp_drawable_get_buffer(drawable),
                                         gimp_drawable_get_shadow_buffer(drawable), GEGL_RECTANGLE(x, y, w, h), style,
                                         &placement, on_progress, NULL, &cancelled);
    if (!error && !cancelled) {
      gimp_drawable_merge_shadow(drawable, TRUE);
      gimp_drawable_update(drawable, x, y, w, h);
    }
    gimp_progress_end();
  }
  if (saved != -1) {
    gimp_image_select_item(image, GIMP_CHANNEL_OP_REPLACE, saved);
    gimp_image_remove_channel(image, saved);
  }
  return error;
}

/* The interactive dialog: preset, style layer and the overrides; returns FALSE when cancelled. */
static gboolean dialog(gint32 image, NstGimpSettings *settings) {
  gimp_ui_init(BINARY, FALSE);
  GtkWidget *window = gimp_dialog_new("Neural Style", BINARY, NULL, 0, gimp_standard_help_func, PROCEDURE,
                                      "_Cancel", GTK_RESPONSE_CANCEL, "_OK", GTK_RESPONSE_OK, NULL);
  GtkWidget *grid = gtk_table_new(9, 2, FALSE);
  gtk_table_set_row_spacings(GTK_TABLE(grid), 6);
  gtk_table_set_col_spacings(GTK_TABLE(grid), 6);
  gtk_container_set_border_width(GTK_CONTAINER(grid), 12);
  gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(window))), grid, TRUE, TRUE, 0);

  GtkWidget *presets = gtk_combo_box_text_new_with_entry();
  gchar **names = nst_gimp_bundled_preset_names();
  for (gchar **name = names; *name; ++name) gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(presets), *name);
  g_strfreev(names);
  gtk_entry_set_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(presets))), settings->preset);
  gimp_table_attach_aligned(GTK_TABLE(grid), 0, 0, "_Preset:", 0.0, 0.5, presets, 1, FALSE);

  GtkWidget *style = gimp_layer_combo_box_new(NULL, NULL);
  gimp_int_combo_box_prepend(GIMP_INT_COMBO_BOX(style), GIMP_INT_STORE_VALUE, -1, GIMP_INT_STORE_LABEL,
                             "(the preset's images)", -1);
  gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(style), settings->style_drawable);
  gimp_table_attach_aligned(GTK_TABLE(grid), 0, 1, "St_yle layer:", 0.0, 0.5, style, 1, FALSE);

  GtkObject *size = gimp_scale_entry_new(GTK_TABLE(grid), 0, 2, "_Size (0: preset's):", 200, 6, settings->size, 0,
                                         NST_SIZE_MAX, 16, 128, 0, TRUE, 0, 0, NULL, NULL);
  GtkObject *iterations = gimp_scale_entry_new(GTK_TABLE(grid), 0, 3, "_Iterations (0: preset's):", 200, 6,
                                               settings->iterations, 0, NST_ITERATIONS_MAX, 1, 10, 0, TRUE, 0, 0, NULL, NULL);
  GtkObject *strength = gimp_scale_entry_new(GTK_TABLE(grid), 0, 4, "S_trength:", 200, 6, settings->strength,
                                             NST_STRENGTH_MIN, NST_STRENGTH_MAX, 0.1, 1, 2, TRUE, 0, 0, NULL, NULL);
  GtkObject *seed = gimp_scale_entry_new(GTK_TABLE(grid), 0, 5, "S_eed (-1: preset's):", 200, 6, settings->seed, -1,
                                         1000000, 1, 10, 0, TRUE, 0, 0, NULL, NULL);
  GtkWidget *selection_mask = gtk_check_button_new_with_mnemonic("Style only _where selected (guided Gram)");
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(selection_mask), settings->selection_as_mask);
  gtk_table_attach_defaults(GTK_TABLE(grid), selection_mask, 1, 2, 6, 7);
  GtkWidget *outside = gimp_layer_combo_box_new(NULL, NULL);
  gimp_int_combo_box_prepend(GIMP_INT_COMBO_BOX(outside), GIMP_INT_STORE_VALUE, -1, GIMP_INT_STORE_LABEL,
                             "(none: the content)", -1);
  gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(outside), settings->outside_style_drawable);
  gimp_table_attach_aligned(GTK_TABLE(grid), 0, 7, "St_yle outside the selection:", 0.0, 0.5, outside, 1, FALSE);
  gchar *model_line = nst_gimp_model_line(settings->preset);
  GtkWidget *model = gtk_label_new(model_line);
  g_free(model_line);
  gtk_label_set_line_wrap(GTK_LABEL(model), TRUE);
  gtk_widget_set_size_request(model, 520, -1); /* GTK 2 wraps a label only within a width it is given */
  gtk_misc_set_alignment(GTK_MISC(model), 0.0, 0.5);
  gtk_table_attach_defaults(GTK_TABLE(grid), model, 0, 2, 8, 9);
  gtk_widget_show_all(window);
  gboolean ok = gimp_dialog_run(GIMP_DIALOG(window)) == GTK_RESPONSE_OK;
  if (ok) {
    g_strlcpy(settings->preset, gtk_entry_get_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(presets)))),
              sizeof settings->preset);
    gint layer = -1;
    gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(style), &layer);
    settings->style_drawable = layer;
    settings->size = (int32_t)gtk_adjustment_get_value(GTK_ADJUSTMENT(size));
    settings->iterations = (int32_t)gtk_adjustment_get_value(GTK_ADJUSTMENT(iterations));
    settings->strength = gtk_adjustment_get_value(GTK_ADJUSTMENT(strength));
    settings->seed = (int32_t)gtk_adjustment_get_value(GTK_ADJUSTMENT(seed));
    settings->selection_as_mask = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(selection_mask));
    gint outside_layer = -1;
    gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(outside), &outside_layer);
    settings->outside_style_drawable = settings->selection_as_mask ? outside_layer : -1;
  }
  gtk_widget_destroy(window);
  (void)image;
  return ok;
}

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals, GimpParam **return_vals) {
  static GimpParam values[2];
  GimpRunMode run_mode = param[0].data.d_int32;
  gint32 image = param[1].data.d_image;
  gint32 drawable = param[2].data.d_drawable;
  NstGimpSettings settings;
  gint32 mask = -1;
  (void)name;

  *nreturn_vals = 1;
  *return_vals = values;
  values[0].type = GIMP_PDB_STATUS;
  values[0].data.d_status = GIMP_PDB_SUCCESS;

  nst_gimp_default_settings(&settings);
  gimp_get_data(PROCEDURE, &settings);
  if (run_mode == GIMP_RUN_NONINTERACTIVE) {
    if (nparams != 11 || !param[3].data.d_string) {
      values[0].data.d_status = GIMP_PDB_CALLING_ERROR;
      return;
    }
    g_strlcpy(settings.preset, param[3].data.d_string, sizeof settings.preset);
    settings.style_drawable = param[4].data.d_drawable;
    settings.size = param[5].data.d_int32;
    settings.iterations = param[6].data.d_int32;
    settings.strength = param[7].data.d_float;
    settings.seed = param[8].data.d_int32;
    mask = param[9].data.d_drawable;
    settings.selection_as_mask = 0;
    settings.outside_style_drawable = param[10].data.d_drawable;
  } else if (run_mode == GIMP_RUN_INTERACTIVE && !dialog(image, &settings)) {
    values[0].data.d_status = GIMP_PDB_CANCEL;
    return;
  }

  gegl_init(NULL, NULL);
  gimp_image_undo_group_start(image);
  gchar *error = stylize_drawable(image, drawable, &settings, mask);
  gimp_image_undo_group_end(image);
  if (error) {
    static gchar message[4096];
    g_strlcpy(message, error, sizeof message);
    g_free(error);
    values[0].data.d_status = GIMP_PDB_EXECUTION_ERROR;
    values[1].type = GIMP_PDB_STRING;
    values[1].data.d_string = message;
    *nreturn_vals = 2;
    return;
  }
  if (run_mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
  if (run_mode == GIMP_RUN_INTERACTIVE) gimp_set_data(PROCEDURE, &settings, sizeof settings);
}
