//! Extended attributes: `include/uapi/linux/xattr.h` and
//! `include/uapi/linux/limits.h`.

// include/uapi/linux/xattr.h
/// `XATTR_CREATE`: fail with `EEXIST` if the attribute exists.
pub const XATTR_CREATE: u32 = 0x1;
/// `XATTR_REPLACE`: fail with `ENODATA` if the attribute does not exist.
pub const XATTR_REPLACE: u32 = 0x2;

/// `XATTR_SECURITY_PREFIX`.
pub const XATTR_SECURITY_PREFIX: &[u8] = b"security.";
/// `XATTR_SYSTEM_PREFIX`.
pub const XATTR_SYSTEM_PREFIX: &[u8] = b"system.";
/// `XATTR_TRUSTED_PREFIX`.
pub const XATTR_TRUSTED_PREFIX: &[u8] = b"trusted.";
/// `XATTR_USER_PREFIX`.
pub const XATTR_USER_PREFIX: &[u8] = b"user.";

// include/uapi/linux/limits.h
/// `XATTR_NAME_MAX`: the longest attribute name, in bytes.
pub const XATTR_NAME_MAX: usize = 255;
/// `XATTR_SIZE_MAX`: the largest attribute value, in bytes.
pub const XATTR_SIZE_MAX: usize = 65536;
/// `XATTR_LIST_MAX`: the largest `listxattr` result, in bytes.
pub const XATTR_LIST_MAX: usize = 65536;
