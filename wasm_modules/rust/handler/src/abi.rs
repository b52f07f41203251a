//! The canonical-ABI glue behind `export_handler!`.
//!
//! The host allocates the input with `cabi_realloc`, calls `handle(ptr, len)`
//! (which takes ownership of the input), reads the 12-byte return area
//! (tag u8 at +0: 0 ok / 1 err; string pointer u32 at +4; length u32 at +8)
//! and may then call `cabi_post_handle` to free the result.

use std::alloc::{self, Layout};

use crate::Outcome;

struct RetArea(std::cell::UnsafeCell<[u32; 3]>);

// A wasm instance runs one call at a time.
unsafe impl Sync for RetArea {}

static RET_AREA: RetArea = RetArea(std::cell::UnsafeCell::new([0; 3]));

/// # Safety
/// Called by the host only, with pointers it got from this function.
pub unsafe fn realloc(old_ptr: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
    if new_len == 0 {
        return align as *mut u8;
    }
    let ptr = if old_len == 0 {
        alloc::alloc(Layout::from_size_align_unchecked(new_len, align))
    } else {
        alloc::realloc(old_ptr, Layout::from_size_align_unchecked(old_len, align), new_len)
    };
    if ptr.is_null() {
        std::process::abort();
    }
    ptr
}

fn error_json(message: &str, permanent: bool) -> String {
    serde_json::json!({ "message": message, "permanent": permanent }).to_string()
}

/// # Safety
/// `ptr`/`len` must describe a string the host wrote into memory it got from `realloc`.
pub unsafe fn call(ptr: *mut u8, len: usize, handle: fn(&str) -> Outcome) -> *mut u32 {
    let bytes = if len == 0 { Vec::new() } else { Vec::from_raw_parts(ptr, len, len) };
    let outcome = match String::from_utf8(bytes) {
        Ok(input) => handle(&input),
        Err(_) => crate::permanent("invalid JSON: the input is not UTF-8"),
    };
    let (tag, text) = match outcome {
        Outcome::Ok(json) => (0, json),
        Outcome::Err { message, permanent } => (1, error_json(&message, permanent)),
    };
    let text = Box::leak(text.into_bytes().into_boxed_slice());
    let area = &mut *RET_AREA.0.get();
    area[0] = tag;
    area[1] = text.as_mut_ptr() as u32;
    area[2] = text.len() as u32;
    area.as_mut_ptr()
}

/// # Safety
/// Called by the host only, once per `call`, after it has read the result.
pub unsafe fn post(ret: *mut u32) {
    let (ptr, len) = (*ret.add(1) as *mut u8, *ret.add(2) as usize);
    if len > 0 {
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)));
    }
}

/// Exports the core-module ABI of `handle: func(input: string) -> result<string, string>`.
#[macro_export]
macro_rules! export_handler {
    ($handle:path) => {
        #[export_name = "cabi_realloc"]
        pub unsafe extern "C" fn __ottermq_cabi_realloc(old_ptr: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
            $crate::abi::realloc(old_ptr, old_len, align, new_len)
        }

        #[export_name = "handle"]
        pub unsafe extern "C" fn __ottermq_handle(ptr: *mut u8, len: usize) -> *mut u32 {
            $crate::abi::call(ptr, len, $handle)
        }

        #[export_name = "cabi_post_handle"]
        pub unsafe extern "C" fn __ottermq_cabi_post_handle(ret: *mut u32) {
            $crate::abi::post(ret)
        }
    };
}
