/*
 * GIMP 2.10 plug-in: Filters > Artistic > Neural Style, procedure plug-in-nst-style.
 *
 * Works on the selection's bounding box (or, when the selection is the mask between two styles, on the whole
 * layer) at the layer's own resolution unless a smaller working size is chosen. The whole run happens before
 * the image is touched: GIMP ends a plug-in whose progress is cancelled, so a cancelled or failed run must have
 * changed nothing. Only then, in one undo step, the result goes through the shadow buffer. The pixel work is
 * shared with the GEGL operation (nst-gimp-common.c); the nst library, ONNX Runtime, the presets and nst.toml
 * sit beside this executable.
 */
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <string.h>

#include "nst-gimp-common.h"

#define PROCEDURE "plug-in-nst-style"
#define BINARY "nst"
/* A global parasite: GIMP keeps it in parasiterc, so the dialog's settings survive a restart. */
#define SETTINGS_PARASITE "nst-style-settings"

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
      {GIMP_PDB_INT32, "size", "Working long side in pixels (16..8192); 0: the area's own size (full resolution); -1: the preset's size. A smaller working size is scaled back up with the area's own fine detail"},
      {GIMP_PDB_INT32, "iterations", "Optimiser iterations (1..10000); 0 keeps the preset's"},
      {GIMP_PDB_FLOAT, "strength", "Multiplies the preset's style weight (0.01..100); 1 keeps it"},
      {GIMP_PDB_INT32, "seed", "Seed of the noise start; -1 keeps the preset's"},
      {GIMP_PDB_DRAWABLE, "mask-drawable", "A channel or layer, read as grey, white where the style applies; the image's selection channel uses the selection; -1 for none"},
      {GIMP_PDB_DRAWABLE, "outside-style-drawable", "A layer whose style applies where the mask is black (needs a mask and a style layer); -1 for none"},
  };
  gimp_install_procedure(PROCEDURE, "Neural style transfer (Gatys et al.) with a style preset",
                         "Optimises the selection so that its VGG19 features keep the content and take the style "
                         "of the preset's (or a layer's) image, at the layer's own resolution.",
                         "nst developers", "nst developers", "2026", "Neural _Style...", "RGB*, GRAY*",
                         GIMP_PLUGIN, G_N_ELEMENTS(args), 0, args, NULL);
  gimp_plugin_menu_register(PROCEDURE, "<Image>/Filters/Artistic");
}

static int on_progress(void *user_data, uint32_t step, uint32_t total) {
  (void)user_data;
  gimp_progress_set_text_printf("Neural style: iteration %u of %u", step, total);
  /* GIMP 2.10 ends the plug-in when its progress is cancelled; a failed update means the same. */
  return !gimp_progress_update((gdouble)step / total);
}

static gboolean is_drawable(gint32 id) { return id > 0 && gimp_item_is_valid(id) && gimp_item_is_drawable(id); }

/* What one run works on, decided before anything changes. */
typedef struct {
  gint32 mask;             /* -1: none */
  gboolean mask_is_selection;
  gboolean whole_layer;    /* the selection is the mask between two styles: the whole layer changes */
  GeglRectangle area;      /* in the layer's coordinates */
} Target;

/* Checks every argument and finds the area; NULL when the run can go ahead, else a message. Changes nothing. */
static gchar *plan(gint32 image, gint32 drawable, const NstGimpSettings *settings, gint32 mask, Target *target) {
  gint32 selection = gimp_image_get_selection(image);
  if (settings->selection_as_mask) mask = selection;
  gboolean outside = settings->outside_style_drawable > 0;
  if (!is_drawable(drawable)) return g_strdup_printf("drawable %d is not a layer or channel", drawable);
  if (mask > 0 && !is_drawable(mask)) return g_strdup_printf("mask-drawable %d is not a channel or layer", mask);
  if (outside && !is_drawable(settings->outside_style_drawable))
    return g_strdup_printf("outside-style-drawable %d is not an open layer", settings->outside_style_drawable);
  if (settings->style_drawable > 0 && !is_drawable(settings->style_drawable))
    return g_strdup_printf("style-drawable %d is not an open layer", settings->style_drawable);
  target->mask = mask > 0 ? mask : -1;
  target->mask_is_selection = mask == selection;
  if (target->mask_is_selection && gimp_selection_is_empty(image))
    return g_strdup("the selection is empty, so it cannot say where the style goes");
  target->whole_layer = target->mask_is_selection && outside;
  gint x, y, w, h;
  if (target->whole_layer) {
    x = y = 0;
    w = gimp_drawable_width(drawable);
    h = gimp_drawable_height(drawable);
  } else if (!gimp_drawable_mask_intersect(drawable, &x, &y, &w, &h)) {
    return g_strdup("the selection does not touch the layer");
  }
  target->area = (GeglRectangle){x, y, w, h};
  return NULL;
}

static NstGimpPlacement placement_for(gint32 drawable, const Target *target, const NstGimpSettings *settings) {
  NstGimpPlacement placement = {NULL, {0, 0, 0, 0}, NULL};
  if (target->mask > 0) {
    gint layer_x, layer_y, mask_x, mask_y;
    gimp_drawable_offsets(drawable, &layer_x, &layer_y);
    gimp_drawable_offsets(target->mask, &mask_x, &mask_y);
    placement.mask = gimp_drawable_get_buffer(target->mask);
    placement.mask_area = (GeglRectangle){target->area.x + layer_x - mask_x, target->area.y + layer_y - mask_y,
                                          target->area.width, target->area.height};
  }
  if (settings->outside_style_drawable > 0)
    placement.outside = gimp_drawable_get_buffer(settings->outside_style_drawable);
  return placement;
}

/* One undo step: the result through the shadow buffer (the selection stepping aside while a whole-layer result
 * is merged, then coming back). */
static void commit(gint32 image, gint32 drawable, const Target *target, const NstGimpResult *result) {
  gimp_image_undo_group_start(image);
  gint32 saved = -1;
  if (target->whole_layer) {
    saved = gimp_selection_save(image);
    gimp_selection_none(image);
  }
  GeglBuffer *shadow = gimp_drawable_get_shadow_buffer(drawable);
  nst_gimp_result_write(result, shadow);
  g_object_unref(shadow);
  gimp_drawable_merge_shadow(drawable, TRUE);
  gimp_drawable_update(drawable, target->area.x, target->area.y, target->area.width, target->area.height);
  if (saved != -1) {
    gimp_image_select_item(image, GIMP_CHANNEL_OP_REPLACE, saved);
    gimp_image_remove_channel(image, saved);
    if (gimp_item_is_layer(drawable)) gimp_image_set_active_layer(image, drawable);
  }
  gimp_image_undo_group_end(image);
}

static gchar *stylize_drawable(gint32 image, gint32 drawable, const NstGimpSettings *settings, gint32 mask,
                               gboolean *cancelled) {
  Target target;
  gchar *error = plan(image, drawable, settings, mask, &target);
  if (error) return error;
  GeglBuffer *style = settings->style_drawable > 0 ? gimp_drawable_get_buffer(settings->style_drawable) : NULL;
  NstGimpPlacement placement = placement_for(drawable, &target, settings);
  NstGimpResult *result = NULL;
  int stopped = 0;
  gimp_progress_init("Neural style");
  error = nst_gimp_compute_and_release(settings, gimp_drawable_get_buffer(drawable), &target.area, style, &placement,
                                       on_progress, NULL, &stopped, &result);
  gimp_progress_end();
  *cancelled = stopped;
  if (result) commit(image, drawable, &target, result);
  nst_gimp_result_free(result);
  return error;
}

/* ---- The dialog ---- */

typedef struct {
  gint32 image, drawable;
  int area_width, area_height;
  GtkWidget *presets, *preset_info, *style, *selection_mask, *outside, *estimate, *model, *preview, *preview_note;
  GtkObject *size, *iterations, *strength;
  GtkWidget *seed;
  NstGimpPresetInfo *info;
} Dialog;

static const char *preset_text(Dialog *d) { return gtk_entry_get_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(d->presets)))); }

/* The dialog's values as settings (`base` gives what the dialog does not show). */
static void read_dialog(Dialog *d, const NstGimpSettings *base, NstGimpSettings *settings) {
  *settings = *base;
  g_strlcpy(settings->preset, preset_text(d), sizeof settings->preset);
  gint layer = -1;
  gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(d->style), &layer);
  settings->style_drawable = layer;
  int side = (int)(gtk_adjustment_get_value(GTK_ADJUSTMENT(d->size)) + 0.5);
  settings->size = side >= MAX(d->area_width, d->area_height) ? 0 : side;
  int iterations = (int)(gtk_adjustment_get_value(GTK_ADJUSTMENT(d->iterations)) + 0.5);
  settings->iterations = d->info && iterations == d->info->iterations ? 0 : iterations;
  settings->strength = gtk_adjustment_get_value(GTK_ADJUSTMENT(d->strength));
  settings->seed = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(d->seed));
  settings->selection_as_mask = gtk_widget_get_sensitive(d->selection_mask) &&
                                gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(d->selection_mask));
  gint outside = -1;
  gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(d->outside), &outside);
  settings->outside_style_drawable = settings->selection_as_mask ? outside : -1;
}

static void update_estimate(Dialog *d) {
  int side = (int)(gtk_adjustment_get_value(GTK_ADJUSTMENT(d->size)) + 0.5);
  int iterations = (int)(gtk_adjustment_get_value(GTK_ADJUSTMENT(d->iterations)) + 0.5);
  gchar *text = nst_gimp_estimate_text(preset_text(d), d->area_width, d->area_height, side, iterations);
  gtk_label_set_text(GTK_LABEL(d->estimate), text);
  g_free(text);
}

static void update_preset(Dialog *d) {
  nst_gimp_preset_info_free(d->info);
  gchar *error = NULL;
  d->info = nst_gimp_preset_info(preset_text(d), &error);
  gchar *text = nst_gimp_preset_text(d->info, error);
  gtk_label_set_text(GTK_LABEL(d->preset_info), text);
  gtk_label_set_text(GTK_LABEL(d->model), d->info ? d->info->model_line : "");
  g_free(text);
  g_free(error);
  update_estimate(d);
}

static void on_preset_changed(GtkComboBox *combo, Dialog *d) {
  (void)combo;
  update_preset(d);
}

static void on_value_changed(GtkAdjustment *adjustment, Dialog *d) {
  (void)adjustment;
  update_estimate(d);
}

static void on_mask_toggled(GtkToggleButton *button, Dialog *d) {
  gtk_widget_set_sensitive(d->outside, gtk_toggle_button_get_active(button) && gtk_widget_get_sensitive(GTK_WIDGET(button)));
}

static void on_choose_file(GtkButton *button, Dialog *d) {
  GtkWidget *chooser = gtk_file_chooser_dialog_new("Open a Preset", GTK_WINDOW(gtk_widget_get_toplevel(GTK_WIDGET(button))),
                                                   GTK_FILE_CHOOSER_ACTION_OPEN, "_Cancel", GTK_RESPONSE_CANCEL,
                                                   "_Open", GTK_RESPONSE_ACCEPT, NULL);
  GtkFileFilter *filter = gtk_file_filter_new();
  gtk_file_filter_set_name(filter, "Style presets (*.toml)");
  gtk_file_filter_add_pattern(filter, "*.toml");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(chooser), filter);
  if (gtk_dialog_run(GTK_DIALOG(chooser)) == GTK_RESPONSE_ACCEPT) {
    gchar *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(chooser));
    gtk_entry_set_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(d->presets))), path);
    g_free(path);
    update_preset(d);
  }
  gtk_widget_destroy(chooser);
}

#define PREVIEW_SIDE NST_GIMP_PREVIEW_SIDE
#define PREVIEW_ITERATIONS NST_GIMP_PREVIEW_ITERATIONS

static void on_preview(GtkButton *button, Dialog *d) {
  NstGimpSettings base, settings;
  nst_gimp_default_settings(&base);
  read_dialog(d, &base, &settings);
  Target target;
  gchar *error = plan(d->image, d->drawable, &settings, -1, &target);
  guchar *rgba = NULL;
  int w = 0, h = 0;
  if (!error) {
    gtk_label_set_text(GTK_LABEL(d->preview_note), "Computing the preview...");
    gtk_widget_set_sensitive(GTK_WIDGET(button), FALSE);
    while (gtk_events_pending()) gtk_main_iteration();
    GeglBuffer *style = settings.style_drawable > 0 ? gimp_drawable_get_buffer(settings.style_drawable) : NULL;
    NstGimpPlacement placement = placement_for(d->drawable, &target, &settings);
    GeglBuffer *source = gimp_drawable_get_buffer(d->drawable);
    error = nst_gimp_preview(&settings, source, &target.area, style, &placement, PREVIEW_SIDE, PREVIEW_ITERATIONS,
                             &rgba, &w, &h);
    nst_gimp_release(source, style, &placement);
    gtk_widget_set_sensitive(GTK_WIDGET(button), TRUE);
  }
  if (error) {
    gtk_label_set_text(GTK_LABEL(d->preview_note), error);
    g_free(error);
    return;
  }
  gimp_preview_area_fill(GIMP_PREVIEW_AREA(d->preview), 0, 0, PREVIEW_SIDE, PREVIEW_SIDE, 0x80, 0x80, 0x80);
  gimp_preview_area_draw(GIMP_PREVIEW_AREA(d->preview), (PREVIEW_SIDE - w) / 2, (PREVIEW_SIDE - h) / 2, w, h,
                         GIMP_RGBA_IMAGE, rgba, w * 4);
  g_free(rgba);
  gchar *note = nst_gimp_preview_note(w, h);
  gtk_label_set_text(GTK_LABEL(d->preview_note), note);
  g_free(note);
}

static void show_help(const gchar *help_id, gpointer help_data) {
  (void)help_id;
  gchar *uri = nst_gimp_help_uri();
  GError *error = NULL;
  if (!uri || !gtk_show_uri(NULL, uri, GDK_CURRENT_TIME, &error)) {
    gchar *text = nst_gimp_help_unavailable(error ? error->message : NULL);
    g_message("%s", text);
    g_free(text);
    g_clear_error(&error);
  }
  g_free(uri);
  (void)help_data;
}

static gboolean not_the_target(gint32 image, gint32 item, gpointer data) {
  (void)image;
  return item != GPOINTER_TO_INT(data);
}

static GtkWidget *wrapped_label(const char *text) {
  GtkWidget *label = gtk_label_new(text);
  gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
  gtk_widget_set_size_request(label, 560, -1); /* GTK 2 wraps a label only within a width it is given */
  gtk_misc_set_alignment(GTK_MISC(label), 0.0, 0.5);
  return label;
}

static GtkObject *log_scale(GtkWidget *table, int row, const char *label, double value, double low, double high,
                            int digits, const char *tooltip) {
  GtkObject *scale = gimp_scale_entry_new(GTK_TABLE(table), 0, row, label, 240, 7, value, low, high,
                                          digits ? 0.01 : 1, digits ? 0.1 : 10, digits, TRUE, 0, 0, tooltip, NULL);
  gimp_scale_entry_set_logarithmic(scale, TRUE);
  return scale;
}

/* The interactive dialog; returns FALSE when cancelled. */
static gboolean dialog(gint32 image, gint32 drawable, NstGimpSettings *settings) {
  gimp_ui_init(BINARY, FALSE);
  Dialog d = {0};
  d.image = image;
  d.drawable = drawable;
  gint x, y;
  if (!gimp_drawable_mask_intersect(drawable, &x, &y, &d.area_width, &d.area_height)) {
    d.area_width = gimp_drawable_width(drawable);
    d.area_height = gimp_drawable_height(drawable);
  }
  int long_side = MAX(d.area_width, d.area_height);
  GtkWidget *window = gimp_dialog_new("Neural Style", BINARY, NULL, 0, show_help, PROCEDURE, "_Cancel",
                                      GTK_RESPONSE_CANCEL, "_OK", GTK_RESPONSE_OK, NULL);
  GtkWidget *table = gtk_table_new(14, 4, FALSE);
  gtk_table_set_row_spacings(GTK_TABLE(table), 6);
  gtk_table_set_col_spacings(GTK_TABLE(table), 6);
  gtk_container_set_border_width(GTK_CONTAINER(table), 12);
  gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(window))), table, TRUE, TRUE, 0);

  GtkWidget *preset_row = gtk_hbox_new(FALSE, 6);
  d.presets = gtk_combo_box_text_new_with_entry();
  gchar **names = nst_gimp_bundled_preset_names();
  for (gchar **name = names; *name; ++name) gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(d.presets), *name);
  gboolean no_presets = !names[0];
  g_strfreev(names);
  gtk_entry_set_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(d.presets))), settings->preset);
  gtk_widget_set_tooltip_text(d.presets, "A bundled preset, or the path of a preset .toml file");
  gtk_box_pack_start(GTK_BOX(preset_row), d.presets, TRUE, TRUE, 0);
  GtkWidget *open = gtk_button_new_with_mnemonic("Open _file...");
  gtk_widget_set_tooltip_text(open, "Choose a preset .toml file");
  gtk_box_pack_start(GTK_BOX(preset_row), open, FALSE, FALSE, 0);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 0, "_Preset:", 0.0, 0.5, preset_row, 3, FALSE);
  d.preset_info = wrapped_label("");
  gtk_table_attach_defaults(GTK_TABLE(table), d.preset_info, 1, 4, 1, 2);

  d.style = gimp_layer_combo_box_new(not_the_target, GINT_TO_POINTER(drawable));
  gimp_int_combo_box_prepend(GIMP_INT_COMBO_BOX(d.style), GIMP_INT_STORE_VALUE, -1, GIMP_INT_STORE_LABEL,
                             "(the preset's style images)", -1);
  gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(d.style), is_drawable(settings->style_drawable) &&
                                settings->style_drawable != drawable ? settings->style_drawable : -1);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 2, "St_yle layer:", 0.0, 0.5, d.style, 3, FALSE);

  /* Working size: up to the area's own long side (the default), logarithmic so that small sizes are reachable. */
  /* Up to the area's long side, or the engine's limit for a larger area (then scaled up with its detail). */
  int high_side = MIN(long_side, NST_SIZE_MAX);
  int low_side = MIN(NST_SIZE_MIN * 4, high_side);
  int side = settings->size > 0 ? CLAMP(settings->size, low_side, high_side) : high_side;
  d.size = log_scale(table, 3, "_Working size:", side, low_side, MAX(high_side, low_side + 1), 0,
                     "Long side the optimisation works at. The right end is the layer's (or selection's) own "
                     "resolution; a smaller size is faster and is scaled back up with the layer's own detail.");
  d.iterations = log_scale(table, 4, "_Iterations:", 100, NST_ITERATIONS_MIN, NST_ITERATIONS_MAX, 0,
                           "Optimiser steps: more gives a stronger, cleaner style and takes longer");
  d.strength = log_scale(table, 5, "S_trength:", CLAMP(settings->strength, NST_STRENGTH_MIN, NST_STRENGTH_MAX),
                         NST_STRENGTH_MIN, NST_STRENGTH_MAX, 2,
                         "Multiplies the preset's style weight: 1 (the middle) is the preset as made");
  d.seed = gtk_spin_button_new_with_range(-1, G_MAXINT32, 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(d.seed), settings->seed);
  gtk_widget_set_tooltip_text(d.seed, "Seed of the noise start: -1 keeps the preset's");
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 6, "S_eed (-1: the preset's):", 0.0, 0.5, d.seed, 1, TRUE);

  d.selection_mask = gtk_check_button_new_with_mnemonic("Style only i_nside the selection (the rest keeps the content)");
  gboolean has_selection = !gimp_selection_is_empty(image);
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(d.selection_mask), has_selection && settings->selection_as_mask);
  gtk_widget_set_sensitive(d.selection_mask, has_selection);
  if (!has_selection) gtk_widget_set_tooltip_text(d.selection_mask, "Needs a selection");
  gtk_table_attach_defaults(GTK_TABLE(table), d.selection_mask, 1, 4, 7, 8);
  d.outside = gimp_layer_combo_box_new(not_the_target, GINT_TO_POINTER(drawable));
  gimp_int_combo_box_prepend(GIMP_INT_COMBO_BOX(d.outside), GIMP_INT_STORE_VALUE, -1, GIMP_INT_STORE_LABEL,
                             "(none: the content stays)", -1);
  gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(d.outside), is_drawable(settings->outside_style_drawable)
                                                                    ? settings->outside_style_drawable : -1);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 8, "Style o_utside the selection:", 0.0, 0.5, d.outside, 3, FALSE);
  on_mask_toggled(GTK_TOGGLE_BUTTON(d.selection_mask), &d);

  d.estimate = wrapped_label("");
  gtk_table_attach_defaults(GTK_TABLE(table), d.estimate, 0, 4, 9, 10);
  d.model = wrapped_label("");
  gtk_table_attach_defaults(GTK_TABLE(table), d.model, 0, 4, 10, 11);

  GtkWidget *preview_row = gtk_hbox_new(FALSE, 12);
  d.preview = gimp_preview_area_new();
  gtk_widget_set_size_request(d.preview, PREVIEW_SIDE, PREVIEW_SIDE);
  gtk_box_pack_start(GTK_BOX(preview_row), d.preview, FALSE, FALSE, 0);
  GtkWidget *preview_side = gtk_vbox_new(FALSE, 6);
  GtkWidget *preview_button = gtk_button_new_with_mnemonic("Pre_view");
  gtk_widget_set_tooltip_text(preview_button, "A quick low-resolution run of these settings, shown here");
  gtk_box_pack_start(GTK_BOX(preview_side), preview_button, FALSE, FALSE, 0);
  d.preview_note = wrapped_label("Preview: press the button for a quick low-resolution run.");
  gtk_widget_set_size_request(d.preview_note, 340, -1);
  gtk_box_pack_start(GTK_BOX(preview_side), d.preview_note, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(preview_row), preview_side, TRUE, TRUE, 0);
  gtk_table_attach_defaults(GTK_TABLE(table), preview_row, 0, 4, 11, 12);

  update_preset(&d);
  /* The iterations slider shows the remembered number, else the preset's own. */
  int iterations = settings->iterations > 0 ? settings->iterations : d.info ? d.info->iterations : 100;
  gtk_adjustment_set_value(GTK_ADJUSTMENT(d.iterations), iterations);
  if (no_presets) {
    gchar *folder = nst_gimp_presets_folder();
    gchar *text = g_strdup_printf("No presets found in %s: reinstall the plug-in, or open a preset .toml file.", folder);
    gtk_label_set_text(GTK_LABEL(d.preset_info), text);
    g_free(text);
    g_free(folder);
  }
  update_estimate(&d);
  g_signal_connect(d.presets, "changed", G_CALLBACK(on_preset_changed), &d);
  g_signal_connect(open, "clicked", G_CALLBACK(on_choose_file), &d);
  g_signal_connect(d.size, "value-changed", G_CALLBACK(on_value_changed), &d);
  g_signal_connect(d.iterations, "value-changed", G_CALLBACK(on_value_changed), &d);
  g_signal_connect(d.selection_mask, "toggled", G_CALLBACK(on_mask_toggled), &d);
  g_signal_connect(preview_button, "clicked", G_CALLBACK(on_preview), &d);

  gtk_widget_show_all(window);
  gboolean ok = gimp_dialog_run(GIMP_DIALOG(window)) == GTK_RESPONSE_OK;
  if (ok) read_dialog(&d, settings, settings);
  nst_gimp_preset_info_free(d.info);
  gtk_widget_destroy(window);
  return ok;
}

/* The remembered settings: this session's, else the ones kept from earlier sessions. */
static void load_settings(NstGimpSettings *settings) {
  nst_gimp_default_settings(settings);
  if (gimp_get_data_size(PROCEDURE) == sizeof *settings) {
    gimp_get_data(PROCEDURE, settings);
    return;
  }
  GimpParasite *kept = gimp_get_parasite(SETTINGS_PARASITE);
  if (kept && gimp_parasite_data_size(kept) == sizeof *settings) {
    memcpy(settings, gimp_parasite_data(kept), sizeof *settings);
    settings->preset[sizeof settings->preset - 1] = '\0';
    /* Layer ids belong to the session that chose them. */
    settings->style_drawable = settings->outside_style_drawable = -1;
  }
  if (kept) gimp_parasite_free(kept);
}

static void keep_settings(const NstGimpSettings *settings) {
  gimp_set_data(PROCEDURE, settings, sizeof *settings);
  GimpParasite *kept = gimp_parasite_new(SETTINGS_PARASITE, GIMP_PARASITE_PERSISTENT, sizeof *settings, settings);
  gimp_attach_parasite(kept);
  gimp_parasite_free(kept);
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

  gegl_init(NULL, NULL);
  load_settings(&settings);
  if (run_mode == GIMP_RUN_NONINTERACTIVE) {
    if (nparams != 11 || !param[3].data.d_string) {
      values[0].data.d_status = GIMP_PDB_CALLING_ERROR;
      return;
    }
    nst_gimp_default_settings(&settings);
    g_strlcpy(settings.preset, param[3].data.d_string, sizeof settings.preset);
    settings.style_drawable = param[4].data.d_drawable;
    settings.size = param[5].data.d_int32;
    settings.iterations = param[6].data.d_int32;
    settings.strength = param[7].data.d_float;
    settings.seed = param[8].data.d_int32;
    mask = param[9].data.d_drawable;
    settings.outside_style_drawable = param[10].data.d_drawable;
  } else if (run_mode == GIMP_RUN_INTERACTIVE) {
    if (!dialog(image, drawable, &settings)) {
      values[0].data.d_status = GIMP_PDB_CANCEL;
      return;
    }
    keep_settings(&settings);
  } else if (settings.selection_as_mask && gimp_selection_is_empty(image)) {
    settings.selection_as_mask = 0; /* a remembered tick does not fail a run without a selection */
    settings.outside_style_drawable = -1;
  }

  gboolean cancelled = FALSE;
  gchar *error = stylize_drawable(image, drawable, &settings, mask, &cancelled);
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
  if (cancelled) {
    values[0].data.d_status = GIMP_PDB_CANCEL;
    return;
  }
  if (run_mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
}
