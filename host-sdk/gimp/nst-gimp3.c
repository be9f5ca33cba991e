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
/* The preset list's entry that defers to the "preset" field (a .toml path or TOML text). */
#define FILE_CHOICE "preset-file-or-text"

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

/* What one run works on, decided before anything changes. */
typedef struct {
  GimpDrawable *mask;      /* a reference, or NULL */
  gboolean whole_layer;    /* the selection is the mask between two styles: the whole layer changes */
  GeglRectangle area;      /* in the layer's coordinates */
} Target;

/* Checks the arguments and finds the area; NULL when the run can go ahead, else a message. Changes nothing. */
static gchar *plan(GimpImage *image, GimpDrawable *drawable, GimpDrawable *mask, GimpDrawable *outside,
                   Target *target) {
  GimpDrawable *selection = GIMP_DRAWABLE(gimp_image_get_selection(image));
  gboolean mask_is_selection = mask && gimp_item_get_id(GIMP_ITEM(mask)) == gimp_item_get_id(GIMP_ITEM(selection));
  target->mask = mask ? g_object_ref(mask) : NULL;
  if (mask_is_selection && gimp_selection_is_empty(image))
    return g_strdup("the selection is empty, so it cannot say where the style goes");
  target->whole_layer = mask_is_selection && outside;
  gint x, y, w, h;
  if (target->whole_layer) {
    x = y = 0;
    w = gimp_drawable_get_width(drawable);
    h = gimp_drawable_get_height(drawable);
  } else if (!gimp_drawable_mask_intersect(drawable, &x, &y, &w, &h)) {
    return g_strdup("the selection does not touch the layer");
  }
  target->area = (GeglRectangle){x, y, w, h};
  return NULL;
}

static NstGimpPlacement placement_for(GimpDrawable *drawable, const Target *target, GimpDrawable *outside) {
  NstGimpPlacement placement = {NULL, {0, 0, 0, 0}, NULL};
  if (target->mask) {
    gint layer_x, layer_y, mask_x, mask_y;
    gimp_drawable_get_offsets(drawable, &layer_x, &layer_y);
    gimp_drawable_get_offsets(target->mask, &mask_x, &mask_y);
    placement.mask = gimp_drawable_get_buffer(target->mask);
    placement.mask_area = (GeglRectangle){target->area.x + layer_x - mask_x, target->area.y + layer_y - mask_y,
                                          target->area.width, target->area.height};
  }
  if (outside) placement.outside = gimp_drawable_get_buffer(outside);
  return placement;
}

/* One undo step: the result through the shadow buffer (the selection stepping aside while a whole-layer result
 * is merged, then coming back). */
static void commit(GimpImage *image, GimpDrawable *drawable, const Target *target, const NstGimpResult *result) {
  gimp_image_undo_group_start(image);
  GimpChannel *saved = NULL;
  if (target->whole_layer) {
    saved = gimp_selection_save(image);
    gimp_selection_none(image);
  }
  GeglBuffer *shadow = gimp_drawable_get_shadow_buffer(drawable);
  nst_gimp_result_write(result, shadow);
  g_object_unref(shadow);
  gimp_drawable_merge_shadow(drawable, TRUE);
  gimp_drawable_update(drawable, target->area.x, target->area.y, target->area.width, target->area.height);
  if (saved) {
    gimp_image_select_item(image, GIMP_CHANNEL_OP_REPLACE, GIMP_ITEM(saved));
    gimp_image_remove_channel(image, saved);
    GimpDrawable *selected[] = {drawable, NULL};
    gimp_image_set_selected_layers(image, (const GimpLayer **)selected);
  }
  gimp_image_undo_group_end(image);
}

/* ---- The dialog's additions: preset values, time estimate, preview, help ---- */

typedef struct {
  GimpProcedureConfig *config;
  GimpImage *image;
  GimpDrawable *drawable;
  int area_width, area_height;
  GtkWidget *preset_info, *estimate, *model, *preview, *preview_note;
  NstGimpPresetInfo *info;
} Extras;

#define PREVIEW_SIDE NST_GIMP_PREVIEW_SIDE
#define PREVIEW_ITERATIONS NST_GIMP_PREVIEW_ITERATIONS

/* The preset the dialog shows: the list's choice, else the typed one. */
static gchar *dialog_preset(GimpProcedureConfig *config) {
  gchar *chosen = NULL, *typed = NULL;
  g_object_get(config, "preset-list", &chosen, "preset", &typed, NULL);
  if (chosen && *chosen && strcmp(chosen, FILE_CHOICE) != 0) {
    g_free(typed);
    return chosen;
  }
  g_free(chosen);
  return typed ? typed : g_strdup("mosaic");
}

static void update_estimate(Extras *e) {
  gint size = 0, iterations = 0;
  g_object_get(e->config, "size", &size, "iterations", &iterations, NULL);
  NstGimpSettings settings;
  nst_gimp_default_settings(&settings);
  settings.size = size;
  int side = nst_gimp_working_side(&settings, e->area_width, e->area_height, e->info ? e->info->size : 0);
  if (iterations <= 0) iterations = e->info ? e->info->iterations : 100;
  gchar *preset = dialog_preset(e->config);
  gchar *text = nst_gimp_estimate_text(preset, e->area_width, e->area_height, side, iterations);
  gtk_label_set_text(GTK_LABEL(e->estimate), text);
  g_free(preset);
  g_free(text);
}

static void update_preset(Extras *e) {
  nst_gimp_preset_info_free(e->info);
  gchar *error = NULL;
  gchar *preset = dialog_preset(e->config);
  e->info = nst_gimp_preset_info(preset, &error);
  gchar *text = nst_gimp_preset_text(e->info, error);
  gtk_label_set_text(GTK_LABEL(e->preset_info), text);
  gtk_label_set_text(GTK_LABEL(e->model), e->info ? e->info->model_line : "");
  g_free(preset);
  g_free(text);
  g_free(error);
  update_estimate(e);
}

static void on_config_changed(GObject *config, GParamSpec *spec, Extras *e) {
  (void)config;
  if (!strcmp(spec->name, "preset-list") || !strcmp(spec->name, "preset")) update_preset(e);
  else if (!strcmp(spec->name, "size") || !strcmp(spec->name, "iterations")) update_estimate(e);
}

/* The settings a run of the dialog's current values would use. */
static void read_settings(GimpProcedureConfig *config, NstGimpSettings *settings, GimpDrawable **style,
                          GimpDrawable **outside, gboolean *selection_as_mask) {
  nst_gimp_default_settings(settings);
  gchar *preset = dialog_preset(config);
  g_strlcpy(settings->preset, preset, sizeof settings->preset);
  g_free(preset);
  g_object_get(config, "style-drawable", style, "size", &settings->size, "iterations", &settings->iterations,
               "strength", &settings->strength, "seed", &settings->seed, "outside-style-drawable", outside,
               "selection-as-mask", selection_as_mask, NULL);
}

static void on_preview(GtkButton *button, Extras *e) {
  NstGimpSettings settings;
  GimpDrawable *style = NULL, *outside = NULL;
  gboolean selection_as_mask = FALSE;
  read_settings(e->config, &settings, &style, &outside, &selection_as_mask);
  GimpDrawable *mask = selection_as_mask ? GIMP_DRAWABLE(gimp_image_get_selection(e->image)) : NULL;
  if (!mask) g_clear_object(&outside);
  Target target = {NULL, FALSE, {0, 0, 0, 0}};
  gchar *error = plan(e->image, e->drawable, mask, outside, &target);
  guchar *rgba = NULL;
  int w = 0, h = 0;
  if (!error) {
    gtk_label_set_text(GTK_LABEL(e->preview_note), "Computing the preview...");
    gtk_widget_set_sensitive(GTK_WIDGET(button), FALSE);
    while (gtk_events_pending()) gtk_main_iteration();
    GeglBuffer *style_buffer = style ? gimp_drawable_get_buffer(style) : NULL;
    NstGimpPlacement placement = placement_for(e->drawable, &target, outside);
    GeglBuffer *source = gimp_drawable_get_buffer(e->drawable);
    error = nst_gimp_preview(&settings, source, &target.area, style_buffer, &placement, PREVIEW_SIDE,
                             PREVIEW_ITERATIONS, &rgba, &w, &h);
    nst_gimp_release(source, style_buffer, &placement);
    gtk_widget_set_sensitive(GTK_WIDGET(button), TRUE);
  }
  g_clear_object(&target.mask);
  g_clear_object(&style);
  g_clear_object(&outside);
  if (error) {
    gtk_label_set_text(GTK_LABEL(e->preview_note), error);
    g_free(error);
    return;
  }
  gimp_preview_area_fill(GIMP_PREVIEW_AREA(e->preview), 0, 0, PREVIEW_SIDE, PREVIEW_SIDE, 0x80, 0x80, 0x80);
  gimp_preview_area_draw(GIMP_PREVIEW_AREA(e->preview), (PREVIEW_SIDE - w) / 2, (PREVIEW_SIDE - h) / 2, w, h,
                         GIMP_RGBA_IMAGE, rgba, w * 4);
  g_free(rgba);
  gchar *note = nst_gimp_preview_note(w, h);
  gtk_label_set_text(GTK_LABEL(e->preview_note), note);
  g_free(note);
}

static void on_file_set(GtkFileChooserButton *chooser, GimpProcedureConfig *config) {
  gchar *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(chooser));
  if (path) g_object_set(config, "preset", path, "preset-list", FILE_CHOICE, NULL);
  g_free(path);
}

static void on_help(GtkButton *button, gpointer data) {
  (void)data;
  gchar *uri = nst_gimp_help_uri();
  GError *error = NULL;
  if (!uri || !gtk_show_uri_on_window(GTK_WINDOW(gtk_widget_get_toplevel(GTK_WIDGET(button))), uri,
                                      GDK_CURRENT_TIME, &error)) {
    gchar *text = nst_gimp_help_unavailable(error ? error->message : NULL);
    g_message("%s", text);
    g_free(text);
    g_clear_error(&error);
  }
  g_free(uri);
}

static GtkWidget *wrapped_label(const char *text) {
  GtkWidget *label = gtk_label_new(text);
  gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
  gtk_label_set_max_width_chars(GTK_LABEL(label), 70);
  gtk_label_set_xalign(GTK_LABEL(label), 0.0);
  return label;
}

/* Logarithmic sliders, so that every part of a wide range can be reached; the size slider ends at the layer's
 * own resolution. */
static void shape_sliders(GimpProcedureDialog *dialog, int long_side) {
  GtkWidget *size = gimp_procedure_dialog_get_scale_entry(dialog, "size", 1.0);
  int high = MIN(long_side, NST_SIZE_MAX), low = MIN(64, high);
  gimp_scale_entry_set_bounds(GIMP_SCALE_ENTRY(size), low, MAX(high, low + 1), TRUE);
  gimp_scale_entry_set_logarithmic(GIMP_SCALE_ENTRY(size), TRUE);
  GtkWidget *iterations = gimp_procedure_dialog_get_scale_entry(dialog, "iterations", 1.0);
  gimp_scale_entry_set_bounds(GIMP_SCALE_ENTRY(iterations), 1, NST_ITERATIONS_MAX, TRUE);
  gimp_scale_entry_set_logarithmic(GIMP_SCALE_ENTRY(iterations), TRUE);
  GtkWidget *strength = gimp_procedure_dialog_get_scale_entry(dialog, "strength", 1.0);
  gimp_scale_entry_set_logarithmic(GIMP_SCALE_ENTRY(strength), TRUE);
}

/* Runs the dialog; FALSE when cancelled. Stores 0 ("the area's own size", "the preset's") when the size or
 * iterations are left at those values, so they follow the next layer and preset. */
static gboolean run_dialog(GimpProcedure *procedure, GimpProcedureConfig *config, GimpImage *image,
                           GimpDrawable *drawable) {
  gimp_ui_init(BINARY);
  Extras e = {config, image, drawable, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL};
  gint x, y;
  if (!gimp_drawable_mask_intersect(drawable, &x, &y, &e.area_width, &e.area_height)) {
    e.area_width = gimp_drawable_get_width(drawable);
    e.area_height = gimp_drawable_get_height(drawable);
  }
  int long_side = MAX(e.area_width, e.area_height);
  gboolean has_selection = !gimp_selection_is_empty(image);
  if (!has_selection) g_object_set(config, "selection-as-mask", FALSE, NULL);
  gint size = 0, iterations = 0;
  g_object_get(config, "size", &size, "iterations", &iterations, NULL);
  if (size == 0 || size > long_side) g_object_set(config, "size", MIN(long_side, NST_SIZE_MAX), NULL);

  GtkWidget *dialog = gimp_procedure_dialog_new(procedure, config, "Neural Style");
  GimpProcedureDialog *pd = GIMP_PROCEDURE_DIALOG(dialog);
  /* GIMP's own Help button looks for GIMP's manual; the filter's page has its own button below. */
  GtkWidget *gimp_help = gtk_dialog_get_widget_for_response(GTK_DIALOG(dialog), GTK_RESPONSE_HELP);
  if (gimp_help) gtk_widget_hide(gimp_help);
  shape_sliders(pd, long_side);
  gimp_procedure_dialog_set_sensitive(pd, "outside-style-drawable", TRUE, G_OBJECT(config), "selection-as-mask", FALSE);
  gimp_procedure_dialog_set_sensitive(pd, "selection-as-mask", has_selection, NULL, NULL, FALSE);
  gimp_procedure_dialog_fill(pd, "preset-list", "preset", "style-drawable", "size", "iterations", "strength", "seed",
                             "selection-as-mask", "outside-style-drawable", NULL);
  GtkWidget *content = gtk_dialog_get_content_area(GTK_DIALOG(dialog));
  e.preset_info = wrapped_label("");
  e.estimate = wrapped_label("");
  e.model = wrapped_label("");
  GtkWidget *preview_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  e.preview = gimp_preview_area_new();
  gtk_widget_set_size_request(e.preview, PREVIEW_SIDE, PREVIEW_SIDE);
  gtk_box_pack_start(GTK_BOX(preview_row), e.preview, FALSE, FALSE, 0);
  GtkWidget *side = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *preview_button = gtk_button_new_with_mnemonic("Pre_view");
  gtk_widget_set_tooltip_text(preview_button, "A quick low-resolution run of these settings, shown here");
  GtkWidget *help_button = gtk_button_new_with_mnemonic("Filter help pa_ge");
  e.preview_note = wrapped_label("Preview: press the button for a quick low-resolution run.");
  gtk_box_pack_start(GTK_BOX(side), preview_button, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(side), e.preview_note, FALSE, FALSE, 0);
  gtk_box_pack_end(GTK_BOX(side), help_button, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(preview_row), side, TRUE, TRUE, 0);
  GtkWidget *file_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *file_label = gtk_label_new_with_mnemonic("Preset .toml _file:");
  GtkWidget *chooser = gtk_file_chooser_button_new("Open a Preset", GTK_FILE_CHOOSER_ACTION_OPEN);
  GtkFileFilter *filter = gtk_file_filter_new();
  gtk_file_filter_set_name(filter, "Style presets (*.toml)");
  gtk_file_filter_add_pattern(filter, "*.toml");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(chooser), filter);
  gtk_label_set_mnemonic_widget(GTK_LABEL(file_label), chooser);
  gtk_box_pack_start(GTK_BOX(file_row), file_label, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(file_row), chooser, TRUE, TRUE, 0);
  g_signal_connect(chooser, "file-set", G_CALLBACK(on_file_set), config);
  GtkWidget *extras[] = {file_row, e.preset_info, e.estimate, e.model, preview_row};
  for (size_t i = 0; i < G_N_ELEMENTS(extras); ++i) {
    gtk_box_pack_start(GTK_BOX(content), extras[i], FALSE, FALSE, 6);
    gtk_widget_show_all(extras[i]);
  }
  update_preset(&e);
  if (iterations == 0 && e.info) g_object_set(config, "iterations", e.info->iterations, NULL);
  gulong watch = g_signal_connect(config, "notify", G_CALLBACK(on_config_changed), &e);
  g_signal_connect(preview_button, "clicked", G_CALLBACK(on_preview), &e);
  g_signal_connect(help_button, "clicked", G_CALLBACK(on_help), NULL);
  gboolean ok = gimp_procedure_dialog_run(pd);
  g_signal_handler_disconnect(config, watch);
  gtk_widget_destroy(dialog);
  if (ok) {
    gchar *chosen = NULL;
    g_object_get(config, "preset-list", &chosen, "size", &size, "iterations", &iterations, NULL);
    if (chosen && *chosen && strcmp(chosen, FILE_CHOICE) != 0) g_object_set(config, "preset", chosen, NULL);
    g_free(chosen);
    if (size >= long_side) g_object_set(config, "size", 0, NULL);
    if (e.info && iterations == e.info->iterations) g_object_set(config, "iterations", 0, NULL);
  }
  nst_gimp_preset_info_free(e.info);
  return ok;
}

static GimpValueArray *run(GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image, GimpDrawable **drawables,
                           GimpProcedureConfig *config, gpointer run_data) {
  (void)run_data;
  if (!drawables || !drawables[0] || drawables[1]) return failure(procedure, g_strdup("select exactly one layer"));
  GimpDrawable *drawable = drawables[0];
  gegl_init(NULL, NULL);
  if (run_mode == GIMP_RUN_INTERACTIVE && !run_dialog(procedure, config, image, drawable))
    return gimp_procedure_new_return_values(procedure, GIMP_PDB_CANCEL, NULL);

  NstGimpSettings settings;
  gchar *preset = NULL;
  GimpDrawable *style_drawable = NULL, *mask = NULL, *outside = NULL;
  gboolean selection_as_mask = FALSE;
  nst_gimp_default_settings(&settings);
  g_object_get(config, "preset", &preset, "style-drawable", &style_drawable, "size", &settings.size, "iterations",
               &settings.iterations, "strength", &settings.strength, "seed", &settings.seed, "mask-drawable", &mask,
               "outside-style-drawable", &outside, "selection-as-mask", &selection_as_mask, NULL);
  g_strlcpy(settings.preset, preset ? preset : "mosaic", sizeof settings.preset);
  g_free(preset);
  if (run_mode != GIMP_RUN_NONINTERACTIVE) {
    /* The dialog's switch stands for the selection as the mask; a remembered tick needs a selection. */
    g_clear_object(&mask);
    if (selection_as_mask && !gimp_selection_is_empty(image))
      mask = GIMP_DRAWABLE(g_object_ref(gimp_image_get_selection(image)));
    if (!mask) g_clear_object(&outside);
  }
  /* GIMP 3's layer chooser cannot leave the target out, so the choice is refused before anything changes. */
  if (run_mode == GIMP_RUN_INTERACTIVE && style_drawable &&
      gimp_item_get_id(GIMP_ITEM(style_drawable)) == gimp_item_get_id(GIMP_ITEM(drawable))) {
    g_clear_object(&style_drawable);
    g_clear_object(&mask);
    g_clear_object(&outside);
    return failure(procedure, g_strdup("the style layer is the layer being stylized: choose another layer, or none "
                                       "for the preset's style images"));
  }

  Target target = {NULL, FALSE, {0, 0, 0, 0}};
  gchar *error = plan(image, drawable, mask, outside, &target);
  NstGimpResult *result = NULL;
  int cancelled = 0;
  if (!error) {
    GeglBuffer *style = style_drawable ? gimp_drawable_get_buffer(style_drawable) : NULL;
    NstGimpPlacement placement = placement_for(drawable, &target, outside);
    gimp_progress_init("Neural style");
    error = nst_gimp_compute_and_release(&settings, gimp_drawable_get_buffer(drawable), &target.area, style,
                                         &placement, on_progress, NULL, &cancelled, &result);
    gimp_progress_end();
  }
  if (result) commit(image, drawable, &target, result);
  nst_gimp_result_free(result);
  g_clear_object(&target.mask);
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

  gimp_procedure_add_string_argument(procedure, "preset", "Preset path or te_xt",
                                     "A bundled name (mosaic, waves, strokes, auvers), a .toml path, or TOML text; "
                                     "the list above wins unless it is left at \"(a file or text)\"",
                                     "mosaic", G_PARAM_READWRITE);
  gimp_procedure_add_drawable_argument(procedure, "style-drawable", "St_yle layer",
                                       "A layer used as the style instead of the preset's images (none: the preset's)",
                                       TRUE, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument(procedure, "size", "_Working size",
                                  "Working long side in pixels (16..8192); 0: the area's own size (full resolution); "
                                  "-1: the preset's. A smaller size is scaled back up with the layer's own detail",
                                  -1, NST_SIZE_MAX, 0, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument(procedure, "iterations", "_Iterations", "Optimiser iterations; 0 keeps the preset's",
                                  0, NST_ITERATIONS_MAX, 0, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument(procedure, "strength", "S_trength",
                                     "Multiplies the preset's style weight: 1 (the middle) is the preset as made",
                                     NST_STRENGTH_MIN, NST_STRENGTH_MAX, 1.0, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument(procedure, "seed", "S_eed", "Seed of the noise start; -1 keeps the preset's", -1,
                                  G_MAXINT, -1, G_PARAM_READWRITE);
  gimp_procedure_add_drawable_argument(procedure, "mask-drawable", "Mask",
                                       "A channel or layer, read as grey, white where the style applies (guided Gram "
                                       "matrices); the image's selection uses the selection; none: everywhere",
                                       TRUE, G_PARAM_READWRITE);
  gimp_procedure_add_drawable_argument(procedure, "outside-style-drawable", "Style o_utside the selection",
                                       "A layer whose style applies where the mask is black (needs a mask and a "
                                       "style layer); none: the content",
                                       TRUE, G_PARAM_READWRITE);
  gimp_procedure_add_boolean_aux_argument(procedure, "selection-as-mask", "Style only i_nside the selection",
                                          "The style goes only where the selection is; the rest keeps the content "
                                          "(or takes the style outside the selection)", FALSE,
                                          G_PARAM_READWRITE);

  /* The dialog's preset list: the bundled presets by name, and an entry that defers to the file or text field. */
  GimpChoice *choice = gimp_choice_new();
  gchar **names = nst_gimp_bundled_preset_names();
  gint i = 0;
  for (; names[i]; ++i) gimp_choice_add(choice, names[i], i, names[i], NULL);
  gimp_choice_add(choice, FILE_CHOICE, i, "(a file or text)", "Use the preset file or text field below");
  /* The default is the procedure's own default preset when it is installed. */
  const gchar *first = FILE_CHOICE;
  for (gint k = 0; names[k]; ++k)
    if (k == 0 || !strcmp(names[k], "mosaic")) first = names[k];
  gimp_procedure_add_choice_aux_argument(procedure, "preset-list", "_Preset", "A bundled preset", choice, first,
                                         G_PARAM_READWRITE);
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
