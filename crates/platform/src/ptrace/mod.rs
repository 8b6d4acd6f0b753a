//! The ptrace platform (PLACEHOLDER while it is being written).

use crate::PlatformError;

/// Whether ptrace works on this host.
pub fn probe() -> Result<(), PlatformError> {
    Ok(())
}
