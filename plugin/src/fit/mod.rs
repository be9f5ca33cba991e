//! Fitting a run into memory: the peak-memory estimate and the budget ([`memory`]), the geometry of
//! overlapping tiles ([`tiling`]), and the tiled optimisation of an image too large to run whole
//! ([`tiled_run`]).

pub mod memory;
pub mod tiled_run;
pub mod tiling;
