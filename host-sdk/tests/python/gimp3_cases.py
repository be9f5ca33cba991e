"""Cases of the GIMP 3 filter, run inside GIMP 3 by python-fu-eval from /job/work. Raises (GIMP exits 64) when
a case does not end as expected; the caller then checks the saved pixels."""

import os

from gi.repository import Gimp, Gio

W = "/job/work/"
proc = Gimp.get_pdb().lookup_procedure("plug-in-nst-style")
if proc is None:
    raise Exception("plug-in-nst-style is not registered")


def load(name):
    return Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(W + name))


def save(image, name):
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(W + name), None)


def state(image, tag):
    """The image's dirty flag, channels, selection and selected layers after `tag`: equal before and after a
    failed run."""
    print(
        "%s: dirty %s channels %d selection %s layers %s"
        % (
            tag,
            image.is_dirty(),
            len(image.get_channels()),
            list(Gimp.Selection.bounds(image)),
            [layer.get_id() for layer in image.get_selected_layers()],
        )
    )


def run(image, preset, style=None, mask=None, outside=None, expect=Gimp.PDBStatusType.SUCCESS, size=None):
    config = proc.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", image.get_selected_drawables())
    config.set_property("preset", preset)
    config.set_property("iterations", 8)
    if size is not None:
        config.set_property("size", size)
    if style is not None:
        config.set_property("style-drawable", style)
    if mask is not None:
        config.set_property("mask-drawable", mask)
    if outside is not None:
        config.set_property("outside-style-drawable", outside)
    result = proc.run(config)
    status = result.index(0)
    message = result.index(1) if result.length() > 1 else ""
    print("case", preset.rsplit("/", 1)[-1], status.value_nick, message)
    if status != expect:
        raise Exception("plug-in-nst-style ended with %s: %s" % (status.value_nick, message))
    return message


quick = W + "quick.toml"

image = load("in.png")
image.select_rectangle(Gimp.ChannelOps.REPLACE, 8, 8, 32, 24)
run(image, quick)
save(image, "selection.png")

image = load("in.png")
run(image, quick)
save(image, "control.png")

red = load("red.png")
image = load("in.png")
run(image, quick, style=red.get_selected_drawables()[0])
save(image, "styled.png")

image = load("in.png")
image.select_rectangle(Gimp.ChannelOps.REPLACE, 8, 8, 32, 24)
image.clean_all()
state(image, "bad-preset-before")
message = run(image, "no-such-preset", expect=Gimp.PDBStatusType.EXECUTION_ERROR)
state(image, "bad-preset-after")
print("bad preset message:", message)
save(image, "unchanged.png")

image = load("in.png")
image.clean_all()
state(image, "empty-mask-before")
run(image, quick, mask=image.get_selection(), expect=Gimp.PDBStatusType.EXECUTION_ERROR)
state(image, "empty-mask-after")

for size, name in [(0, "full-size.png"), (24, "worked-small.png")]:
    image = load("detailed.png")
    run(image, quick, size=size)
    save(image, name)

image = load("in.png")
image.convert_precision(Gimp.Precision.U16_NON_LINEAR)
run(image, quick)
print("sixteen precision", image.get_precision().value_nick)
save(image, "sixteen.png")

image = load("in.png")
image.convert_precision(Gimp.Precision.FLOAT_LINEAR)
run(image, quick)
save(image, "float.png")

image = load("in.png")
image.convert_grayscale()
run(image, quick)
save(image, "grey.png")

# The selection (left half) as the mask between a red style inside and a blue one outside.
blue = load("blue.png")
image = load("in.png")
image.select_rectangle(Gimp.ChannelOps.REPLACE, 0, 0, 32, 48)
run(
    image,
    quick,
    style=red.get_selected_drawables()[0],
    mask=image.get_selection(),
    outside=blue.get_selected_drawables()[0],
)
print("selection after:", list(Gimp.Selection.bounds(image)))
save(image, "two-styles.png")
# nst.toml beside the plug-in configures the engine of each run (every run is a new plug-in process).
configuration = "/job/gimpdir/plug-ins/neural-style/nst.toml"
installed = open(configuration).read() if os.path.exists(configuration) else None
with open(configuration, "w") as toml:
    toml.write('threads = 1\nmodel = "builtin"\n')
image = load("in.png")
run(image, quick)
print("configured run: success")
with open(configuration, "w") as toml:
    toml.write('provider = "no-such-provider"\n')
print("bad configuration:", run(image, quick, expect=Gimp.PDBStatusType.EXECUTION_ERROR))
if installed is None:
    os.remove(configuration)
else:
    with open(configuration, "w") as toml:
        toml.write(installed)
print("all cases ran")
