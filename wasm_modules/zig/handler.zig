//! OtterMQ handler support for Zig: the WASI command shape.
//!
//! A handler file declares `fn handle(arena, input) !Outcome` and a `main`
//! that calls `handler.run(init, handle)`. `run` reads JSON from stdin and
//! writes the output to stdout (exit 0) or the error message to stderr
//! (exit 100 = permanent failure, 1 = retryable failure).

const std = @import("std");
const Allocator = std.mem.Allocator;
const Value = std.json.Value;

pub const exit_permanent: u8 = 100;
pub const exit_retryable: u8 = 1;

pub const Failure = struct {
    message: []const u8,
    permanent: bool,
};

pub const Outcome = union(enum) {
    ok: []const u8,
    err: Failure,
};

pub const HandleFn = fn (Allocator, []const u8) anyerror!Outcome;

pub fn run(init: std.process.Init, comptime handle: HandleFn) !void {
    const arena = init.arena.allocator();
    var in_buffer: [4096]u8 = undefined;
    var stdin = std.Io.File.Reader.init(.stdin(), init.io, &in_buffer);
    const input = try stdin.interface.allocRemaining(arena, .unlimited);

    const outcome = handle(arena, input) catch |err| Outcome{
        .err = .{ .message = @errorName(err), .permanent = false },
    };
    var out_buffer: [4096]u8 = undefined;
    switch (outcome) {
        .ok => |json| {
            var stdout = std.Io.File.Writer.init(.stdout(), init.io, &out_buffer);
            try stdout.interface.writeAll(json);
            try stdout.interface.writeAll("\n");
            try stdout.interface.flush();
        },
        .err => |failure| {
            var stderr = std.Io.File.Writer.init(.stderr(), init.io, &out_buffer);
            try stderr.interface.writeAll(failure.message);
            try stderr.interface.writeAll("\n");
            try stderr.interface.flush();
            std.process.exit(if (failure.permanent) exit_permanent else exit_retryable);
        },
    }
}

/// Parses the input; null means it is not JSON (see `invalidJson`).
pub fn parse(arena: Allocator, input: []const u8) ?Value {
    return std.json.parseFromSliceLeaky(Value, arena, input, .{
        .duplicate_field_behavior = .use_last,
    }) catch null;
}

pub fn invalidJson() Outcome {
    return permanent("invalid JSON: the input is not a JSON text");
}

pub fn permanent(message: []const u8) Outcome {
    return .{ .err = .{ .message = message, .permanent = true } };
}

pub fn permanentFmt(arena: Allocator, comptime fmt: []const u8, args: anytype) !Outcome {
    return permanent(try std.fmt.allocPrint(arena, fmt, args));
}

pub fn retryable(message: []const u8) Outcome {
    return .{ .err = .{ .message = message, .permanent = false } };
}

/// Serialises `value` (a struct, or anything std.json.Stringify accepts) as the output.
pub fn ok(arena: Allocator, value: anytype) !Outcome {
    return .{ .ok = try std.json.Stringify.valueAlloc(arena, value, .{}) };
}

pub fn field(object: Value, name: []const u8) ?Value {
    return switch (object) {
        .object => |map| map.get(name),
        else => null,
    };
}

pub fn string(value: ?Value) ?[]const u8 {
    const v = value orelse return null;
    return switch (v) {
        .string => |s| s,
        else => null,
    };
}

pub fn number(value: ?Value) ?f64 {
    const v = value orelse return null;
    return switch (v) {
        .integer => |i| @floatFromInt(i),
        .float => |f| f,
        else => null,
    };
}

/// A JSON number with an integral value in [-2^53, 2^53], such as 3 or 3.0.
pub fn integer(value: ?Value) ?i64 {
    const limit: f64 = 9007199254740992.0;
    const x = number(value) orelse return null;
    if (!(x >= -limit and x <= limit) or @floor(x) != x) return null;
    return @intFromFloat(x);
}

/// Money: an amount in currency units to integer cents, half away from zero.
pub fn cents(amount: f64) i64 {
    const scaled = amount * 100.0;
    const rounded = @floor(@abs(scaled) + 0.5);
    return if (scaled < 0) -@as(i64, @intFromFloat(rounded)) else @intFromFloat(rounded);
}
