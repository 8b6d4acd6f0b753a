//! The sandbox's lifecycle (PLACEHOLDER while it is being written).
