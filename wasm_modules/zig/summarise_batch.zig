//! summarise_batch: totals a batch of enriched records (see ../README.md).
const std = @import("std");
const handler = @import("handler.zig");

pub fn main(init: std.process.Init) !void {
    return handler.run(init, handle);
}

const max_cents: i64 = 1_000_000_000_000;

const Totals = struct {
    count: i64 = 0,
    total_cents: i64 = 0,
};

fn handle(arena: std.mem.Allocator, input: []const u8) !handler.Outcome {
    const batch = handler.parse(arena, input) orelse return handler.invalidJson();
    if (batch != .array) return handler.permanent("batch must be a JSON array of records");

    var totals: Totals = .{};
    var by_category: std.json.ArrayHashMap(Totals) = .{};
    for (batch.array.items, 1..) |record, index| {
        if (record != .object) return handler.permanentFmt(arena, "record {d}: must be an object", .{index});
        const amount = handler.integer(handler.field(record, "amount_cents")) orelse max_cents + 1;
        if (amount < -max_cents or amount > max_cents) return handler.permanentFmt(arena,
            "record {d}: amount_cents must be an integer between -1000000000000 and 1000000000000", .{index});
        const name = handler.string(handler.field(record, "category")) orelse "";
        if (name.len == 0) return handler.permanentFmt(arena, "record {d}: category must be a non-empty string", .{index});

        const entry = try by_category.map.getOrPut(arena, name);
        if (!entry.found_existing) entry.value_ptr.* = .{};
        entry.value_ptr.count += 1;
        entry.value_ptr.total_cents += amount;
        totals.count += 1;
        totals.total_cents += amount;
    }
    return handler.ok(arena, .{
        .count = totals.count,
        .total_cents = totals.total_cents,
        .by_category = by_category,
    });
}
