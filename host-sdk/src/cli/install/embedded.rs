//! The Python files the installers write, embedded at build time by `host-sdk/build.rs`: the GIMP 3 plug-in
//! (`host-sdk/gimp3/`), the Krita plug-in (`host-sdk/krita/`) and the `nst` package (`host-sdk/python/nst/`).

include!(concat!(env!("OUT_DIR"), "/embedded_plugins.rs"));
