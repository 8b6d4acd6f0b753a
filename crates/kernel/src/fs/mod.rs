//! PLACEHOLDER: file systems (owned by the vfs helper).
