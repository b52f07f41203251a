//! render_report_line: one line of the nightly report (see ../README.md).
const std = @import("std");
const handler = @import("handler.zig");

pub fn main(init: std.process.Init) !void {
    return handler.run(init, handle);
}

fn digits(text: []const u8) ?u32 {
    var v: u32 = 0;
    for (text) |c| {
        if (c < '0' or c > '9') return null;
        v = v * 10 + (c - '0');
    }
    return v;
}

fn isCalendarDate(text: []const u8) bool {
    const days = [_]u32{ 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (text.len != 10 or text[4] != '-' or text[7] != '-') return false;
    const year = digits(text[0..4]) orelse return false;
    const month = digits(text[5..7]) orelse return false;
    const day = digits(text[8..10]) orelse return false;
    if (month < 1 or month > 12 or day < 1) return false;
    const leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0;
    const extra: u32 = if (month == 2 and leap) 1 else 0;
    return day <= days[month - 1] + extra;
}

fn handle(arena: std.mem.Allocator, input: []const u8) !handler.Outcome {
    const in = handler.parse(arena, input) orelse return handler.invalidJson();
    if (in != .object) return handler.permanent("input must be a JSON object");
    const date = handler.string(handler.field(in, "date")) orelse "";
    if (!isCalendarDate(date)) return handler.permanent("date must be a YYYY-MM-DD calendar date");
    const count = handler.integer(handler.field(in, "count")) orelse -1;
    if (count < 0) return handler.permanent("count must be a non-negative integer");
    const total = handler.integer(handler.field(in, "total_cents")) orelse
        return handler.permanent("total_cents must be an integer");

    const magnitude = @abs(total);
    const line = try std.fmt.allocPrint(arena, "{s}: {d} {s}, {s}{d}.{d:0>2} total", .{
        date,
        count,
        if (count == 1) "record" else "records",
        if (total < 0) "-" else "",
        magnitude / 100,
        magnitude % 100,
    });
    return handler.ok(arena, .{ .line = line });
}
