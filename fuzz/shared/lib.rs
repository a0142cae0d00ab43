//! What the fuzz targets share, one library of the fuzz crate: the golden block and its limits
//! (`golden`), the template-patching input convention (`patch`), the mock learner (`mock`) and a
//! one-block chain on it (`chain`). The workspace's tests include `chain`, `golden` and `mock`
//! by path (this crate is outside the workspace).

pub mod chain;
pub mod golden;
pub mod mock;
pub mod patch;
