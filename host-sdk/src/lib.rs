//! The host side of nst: load the plugin library, check its ABI, and run it through a safe API.
//!
//! ```no_run
//! use nst_host::{Engine, Overrides, Plugin};
//! // SAFETY: the library found is the nst plugin, whose initialisers have no side effects.
//! let plugin = unsafe { Plugin::load_default() }?;
//! let engine = Engine::new(&plugin, "provider = \"cpu\"")?;
//! let content = image::open("photo.jpg").unwrap();
//! let (stylized, report) = engine.stylize_image("mosaic", &Overrides::default(), &content, &[], |_| true, None)?;
//! stylized.save("out.png").unwrap();
//! println!("ran on {} with {}", report.provider, report.model);
//! # Ok::<(), nst_host::HostError>(())
//! ```
#![deny(missing_docs)]

mod engine;
mod error;
mod images;
mod plugin;

pub use engine::{CancelToken, Engine, Overrides, Progress, Report};
pub use error::{HostError, PluginStatus};
pub use images::{ImageView, ImageViewMut};
/// The C types of the ABI, shared with the plugin.
pub use nst_sys::abi;
pub use nst_sys::abi::{ABI_VERSION, NstPixelFormat as PixelFormat, NstStatus};
pub use plugin::{Plugin, library_file_name};
