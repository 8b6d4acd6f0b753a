//! `--strace`: each syscall with its arguments decoded from the table, and its result.

use abi::Errno;

use super::SyscallArgs;
use super::table::Syscall;
use crate::task::Task;

/// Prints the entry line of a syscall.
pub fn enter(_task: &Task, _nr: u64, _row: Option<&Syscall>, _args: &SyscallArgs) {}

/// Prints the result line of a syscall.
pub fn exit(_task: &Task, _nr: u64, _row: Option<&Syscall>, _args: &SyscallArgs, _result: Result<u64, Errno>) {}
