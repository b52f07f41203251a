//! enrich_record: normalises one ETL record, or a batch of them (see ../README.md).
const std = @import("std");
const handler = @import("handler.zig");

pub fn main(init: std.process.Init) !void {
    return handler.run(init, handle);
}

fn isSpace(c: u8) bool {
    return c == ' ' or c == '\t' or c == '\n' or c == '\r';
}

/// Trims, collapses runs of whitespace to one space and upper-cases ASCII letters.
fn normaliseName(arena: std.mem.Allocator, name: []const u8) ![]const u8 {
    var out: std.ArrayList(u8) = .empty;
    var pending_space = false;
    for (name) |c| {
        if (isSpace(c)) {
            pending_space = out.items.len > 0;
            continue;
        }
        if (pending_space) try out.append(arena, ' ');
        pending_space = false;
        try out.append(arena, std.ascii.toUpper(c));
    }
    return out.items;
}

fn category(amount_cents: i64) []const u8 {
    if (amount_cents < 0) return "refund";
    if (amount_cents < 10_000) return "small";
    if (amount_cents < 100_000) return "medium";
    return "large";
}

const Enriched = struct {
    id: []const u8,
    name: []const u8,
    amount_cents: i64,
    category: []const u8,
};

/// One record's output, or the message of its first failed check.
const Enrichment = union(enum) {
    ok: Enriched,
    invalid: []const u8,
};

fn enrich(arena: std.mem.Allocator, record: std.json.Value) !Enrichment {
    if (record != .object) return .{ .invalid = "record must be a JSON object" };
    const id = handler.string(handler.field(record, "id")) orelse "";
    if (id.len == 0) return .{ .invalid = "id must be a non-empty string" };
    const raw_name = handler.string(handler.field(record, "name")) orelse
        return .{ .invalid = "name must be a string" };
    const amount = handler.number(handler.field(record, "amount")) orelse 1e300;
    const name = try normaliseName(arena, raw_name);
    if (name.len == 0) return .{ .invalid = "name is empty" };
    if (!(amount >= -1e9 and amount <= 1e9))
        return .{ .invalid = "amount must be a number between -1000000000 and 1000000000" };

    const amount_cents = handler.cents(amount);
    return .{ .ok = .{
        .id = id,
        .name = name,
        .amount_cents = amount_cents,
        .category = category(amount_cents),
    } };
}

/// One record (an object) or a batch (an array of records, answered with an
/// array); one invalid record fails the whole batch, naming the record.
fn handle(arena: std.mem.Allocator, input: []const u8) !handler.Outcome {
    const value = handler.parse(arena, input) orelse return handler.invalidJson();
    if (value != .array) return switch (try enrich(arena, value)) {
        .ok => |enriched| handler.ok(arena, enriched),
        .invalid => |message| handler.permanent(message),
    };
    const records = value.array.items;
    const out = try arena.alloc(Enriched, records.len);
    for (records, out, 1..) |record, *slot, n| {
        switch (try enrich(arena, record)) {
            .ok => |enriched| slot.* = enriched,
            .invalid => |message| return handler.permanentFmt(arena, "record {d}: {s}", .{ n, message }),
        }
    }
    return handler.ok(arena, out);
}
