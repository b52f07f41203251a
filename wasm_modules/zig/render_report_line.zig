//! render_report_line: one line of the nightly report (see ../README.md).
const std = @import("std");
const handler = @import("handler.zig");

pub fn main(init: std.process.Init) !void {
    return handler.run(init, handle);
}

fn handle(arena: std.mem.Allocator, input: []const u8) !handler.Outcome {
    const in = handler.parse(arena, input) orelse return handler.invalidJson();
    if (in != .object) return handler.permanent("input must be a JSON object");
    const date = handler.string(handler.field(in, "date")) orelse "";
    if (!handler.isCalendarDate(date)) return handler.permanent("date must be a YYYY-MM-DD calendar date");
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
