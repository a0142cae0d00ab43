//! Growing datasets (work in progress).
