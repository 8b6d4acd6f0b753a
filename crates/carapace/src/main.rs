//! The `carapace` command (PLACEHOLDER while it is being written).

fn main() {}
