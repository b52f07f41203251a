//! load_records: reads the day's extract from a granted directory (see ../README.md).
const std = @import("std");
const handler = @import("handler.zig");

pub fn main(init: std.process.Init) !void {
    return handler.runWithHost(init, handle);
}

fn handle(arena: std.mem.Allocator, host: handler.Host, input: []const u8) !handler.Outcome {
    const in = handler.parse(arena, input) orelse return handler.invalidJson();
    if (in != .object) return handler.permanent("input must be a JSON object");
    const date = handler.string(handler.field(in, "date")) orelse "";
    if (!handler.isCalendarDate(date)) return handler.permanent("date must be a YYYY-MM-DD calendar date");
    const name = try std.fmt.allocPrint(arena, "records-{s}.json", .{date});
    const path = try handler.filePath(arena, in, "/data", name) orelse
        return handler.permanent("dir must be an absolute path");

    const content = host.readFile(arena, path) catch |err| switch (err) {
        // Not there yet, or the directory is not granted: the guest cannot
        // tell the two apart, and a retry helps once either is fixed.
        error.FileNotFound => return handler.retryable(
            try std.fmt.allocPrint(arena, "no extract for {s} yet ({s})", .{ date, path }),
        ),
        error.OutOfMemory => return err,
        else => return handler.permanentFmt(arena, "cannot read {s}: {t}", .{ path, err }),
    };
    // Numbers stay as written (`parse_numbers = false`): the records are
    // answered as they were read, not re-formatted.
    const records = std.json.parseFromSliceLeaky(std.json.Value, arena, content, .{
        .duplicate_field_behavior = .use_last,
        .parse_numbers = false,
    }) catch null;
    if (records == null or records.? != .array)
        return handler.permanentFmt(arena, "extract {s} is not a JSON array", .{path});
    return handler.ok(arena, .{ .date = date, .records = records.? });
}
