//! OtterMQ handler support for Zig: the WASI command shape.
//!
//! A handler file declares `fn handle(arena, input) !Outcome` and a `main`
//! that calls `handler.run(init, handle)`. `run` reads JSON from stdin and
//! writes the output to stdout (exit 0) or the error message to stderr
//! (exit 100 = permanent failure, 1 = retryable failure). A handler that
//! reads files declares `fn handle(arena, host, input)` and calls
//! `handler.runWithHost(init, handle)`: `Host` opens files in the directories
//! the handler's spec grants.

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
pub const HostHandleFn = fn (Allocator, Host, []const u8) anyerror!Outcome;

/// What a handler sees of the host besides its input: the granted directories.
pub const Host = struct {
    io: std.Io,
    preopens: std.process.Preopens,

    /// Reads the whole file at the absolute `path`. A path under no granted
    /// directory is `error.FileNotFound`, as for wasi-libc and Go: inside the
    /// sandbox a directory that is not granted does not exist.
    pub fn readFile(host: Host, arena: Allocator, path: []const u8) ![]u8 {
        const found = host.locate(path) orelse return error.FileNotFound;
        return found.dir.readFileAlloc(host.io, found.sub_path, arena, .unlimited);
    }

    const Located = struct { dir: std.Io.Dir, sub_path: []const u8 };

    /// The granted directory holding `path` (the longest matching guest path) and the path inside it.
    fn locate(host: Host, path: []const u8) ?Located {
        var best: ?Located = null;
        var best_len: usize = 0;
        for (host.preopens.map.keys(), 0..) |raw_name, fd| {
            if (fd < 3) continue; // stdin, stdout, stderr
            const name = std.mem.trimEnd(u8, raw_name, "/");
            if (!std.mem.startsWith(u8, path, name) or path.len <= name.len + 1 or path[name.len] != '/') continue;
            if (best != null and name.len < best_len) continue;
            best = .{ .dir = .{ .handle = @intCast(fd) }, .sub_path = path[name.len + 1 ..] };
            best_len = name.len;
        }
        return best;
    }
};

pub fn run(init: std.process.Init, comptime handle: HandleFn) !void {
    const Adapter = struct {
        fn call(arena: Allocator, _: Host, input: []const u8) anyerror!Outcome {
            return handle(arena, input);
        }
    };
    return runWithHost(init, Adapter.call);
}

pub fn runWithHost(init: std.process.Init, comptime handle: HostHandleFn) !void {
    const arena = init.arena.allocator();
    var in_buffer: [4096]u8 = undefined;
    var stdin = std.Io.File.Reader.init(.stdin(), init.io, &in_buffer);
    const input = try stdin.interface.allocRemaining(arena, .unlimited);

    const host = Host{ .io = init.io, .preopens = init.preopens };
    const outcome = handle(arena, host, input) catch |err| Outcome{
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

fn digits(text: []const u8) ?u32 {
    var v: u32 = 0;
    for (text) |c| {
        if (c < '0' or c > '9') return null;
        v = v * 10 + (c - '0');
    }
    return v;
}

/// A real YYYY-MM-DD calendar date (leap years included).
pub fn isCalendarDate(text: []const u8) bool {
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

/// `<dir>/<name>`, where dir is the input's "dir" field (`fallback` when
/// absent) without trailing slashes; null when dir is not an absolute path
/// (a string starting with "/", without NUL characters).
pub fn filePath(arena: Allocator, object: Value, fallback: []const u8, name: []const u8) !?[]const u8 {
    var dir = fallback;
    if (field(object, "dir")) |raw| {
        dir = string(raw) orelse return null;
        if (!std.mem.startsWith(u8, dir, "/") or std.mem.indexOfScalar(u8, dir, 0) != null) return null;
    }
    const trimmed = std.mem.trimEnd(u8, dir, "/");
    return try std.fmt.allocPrint(arena, "{s}/{s}", .{ trimmed, name });
}

/// Money: an amount in currency units to integer cents, half away from zero.
pub fn cents(amount: f64) i64 {
    const scaled = amount * 100.0;
    const rounded = @floor(@abs(scaled) + 0.5);
    return if (scaled < 0) -@as(i64, @intFromFloat(rounded)) else @intFromFloat(rounded);
}
