/*
 * The core-module shape: the canonical-ABI lowering of
 * `handle: func(input: string) -> result<string, string>` with no imports.
 *
 * Memory is an arena: everything a call allocates is released at once when
 * the host calls cabi_post_handle, or at the next call's first allocation if
 * it did not, so a pooled instance does not grow call after call.
 */
#include "ottermq_handler.h"

#define PAGE 65536u

extern unsigned char __heap_base;

static uintptr_t arena_top;
static int call_finished;
/* tag (u8) at +0, string pointer at +4, string length at +8 */
static uint32_t ret_area[3];

static void reset_arena(void) {
    arena_top = (uintptr_t)&__heap_base;
    call_finished = 0;
}

void *om_alloc(size_t size) {
    if (!arena_top) reset_arena();
    uintptr_t start = (arena_top + 7u) & ~(uintptr_t)7u;
    uintptr_t end = start + (size ? size : 1);
    uintptr_t limit = (uintptr_t)__builtin_wasm_memory_size(0) * PAGE;
    if (end > limit) {
        size_t pages = (end - limit + PAGE - 1) / PAGE;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) __builtin_trap();
    }
    arena_top = end;
    return (void *)start;
}

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old_ptr, size_t old_len, size_t align, size_t new_len) {
    (void)align; /* om_alloc aligns to 8, enough for any canonical-ABI type */
    if (call_finished && !old_ptr) reset_arena();
    if (new_len <= old_len) return old_ptr;
    unsigned char *p = om_alloc(new_len);
    for (size_t i = 0; i < old_len; i++) p[i] = ((unsigned char *)old_ptr)[i];
    return p;
}

static const char *error_json(const om_result *r, size_t *len) {
    om_buf out = {0};
    om_put(&out, "{\"message\":");
    om_put_json_str(&out, r->text, r->len);
    om_put(&out, r->permanent ? ",\"permanent\":true}" : ",\"permanent\":false}");
    *len = out.len;
    return out.data;
}

__attribute__((export_name("handle")))
uint32_t *handle(const char *input, size_t len) {
    om_result r = om_handle(input, len);
    const char *text = r.text;
    size_t text_len = r.len;
    if (!r.ok) text = error_json(&r, &text_len);
    ret_area[0] = r.ok ? 0 : 1;
    ret_area[1] = (uint32_t)(uintptr_t)text;
    ret_area[2] = (uint32_t)text_len;
    call_finished = 1;
    return ret_area;
}

__attribute__((export_name("cabi_post_handle")))
void cabi_post_handle(uint32_t *ret) {
    (void)ret;
    reset_arena();
}
