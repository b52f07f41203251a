// A strict JSON (RFC 8259) reader and the string quoting the handlers need.
// AssemblyScript has no JSON in its standard library.

export enum Kind { Null, Bool, Number, String, Array, Object }

export class JsonValue {
  kind: Kind = Kind.Null;
  bool: bool = false;
  num: f64 = 0;
  str: string = "";
  items: Array<JsonValue> = [];
  keys: Array<string> = [];

  /** The value of `key` in an object (the last duplicate wins), or null. */
  get(key: string): JsonValue | null {
    if (this.kind != Kind.Object) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] == key) return this.items[i];
    }
    return null;
  }
}

const MAX_DEPTH = 64;

class Parser {
  pos: i32 = 0;
  depth: i32 = 0;
  error: string = "";

  constructor(public text: string) {}

  fail(message: string): JsonValue | null {
    if (this.error.length == 0) this.error = message;
    return null;
  }

  peek(): i32 {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  skipWs(): void {
    let c = this.peek();
    while (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) {
      this.pos++;
      c = this.peek();
    }
  }

  literal(word: string, value: JsonValue): JsonValue | null {
    if (this.text.substr(this.pos, word.length) != word) return this.fail("invalid literal");
    this.pos += word.length;
    return value;
  }

  value(): JsonValue | null {
    this.skipWs();
    const c = this.peek();
    if (c < 0) return this.fail("unexpected end of input");
    if (++this.depth > MAX_DEPTH) return this.fail("nesting too deep");
    let v: JsonValue | null = null;
    if (c == 0x7b) v = this.object();
    else if (c == 0x5b) v = this.array();
    else if (c == 0x22) v = this.string();
    else if (c == 0x74) { const t = new JsonValue(); t.kind = Kind.Bool; t.bool = true; v = this.literal("true", t); }
    else if (c == 0x66) { const f = new JsonValue(); f.kind = Kind.Bool; v = this.literal("false", f); }
    else if (c == 0x6e) v = this.literal("null", new JsonValue());
    else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) v = this.number();
    else v = this.fail("unexpected character");
    this.depth--;
    return v;
  }

  hex4(): i32 {
    if (this.pos + 4 > this.text.length) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.text.charCodeAt(this.pos++);
      let d = -1;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      if (d < 0) return -1;
      v = (v << 4) | d;
    }
    return v;
  }

  string(): JsonValue | null {
    this.pos++;
    const units = new Array<i32>();
    for (;;) {
      if (this.pos >= this.text.length) return this.fail("unterminated string");
      const c = this.text.charCodeAt(this.pos++);
      if (c == 0x22) break;
      if (c < 0x20) return this.fail("control character in string");
      if (c != 0x5c) { units.push(c); continue; }
      const e = this.peek();
      this.pos++;
      if (e == 0x22 || e == 0x5c || e == 0x2f) units.push(e);
      else if (e == 0x62) units.push(0x08);
      else if (e == 0x66) units.push(0x0c);
      else if (e == 0x6e) units.push(0x0a);
      else if (e == 0x72) units.push(0x0d);
      else if (e == 0x74) units.push(0x09);
      else if (e == 0x75) {
        const unit = this.hex4();
        if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff)) return this.fail("invalid \\u escape");
        units.push(unit);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (this.text.substr(this.pos, 2) != "\\u") return this.fail("invalid \\u escape");
          this.pos += 2;
          const low = this.hex4();
          if (low < 0xdc00 || low > 0xdfff) return this.fail("invalid \\u escape");
          units.push(low);
        }
      } else return this.fail("invalid escape in string");
    }
    const v = new JsonValue();
    v.kind = Kind.String;
    v.str = String.fromCharCodes(units);
    return v;
  }

  digits(): i32 {
    const start = this.pos;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    return this.pos - start;
  }

  number(): JsonValue | null {
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    const intStart = this.pos;
    const intDigits = this.digits();
    if (intDigits == 0) return this.fail("invalid number");
    if (intDigits > 1 && this.text.charCodeAt(intStart) == 0x30) return this.fail("invalid number (leading zero)");
    if (this.peek() == 0x2e) {
      this.pos++;
      if (this.digits() == 0) return this.fail("invalid number");
    }
    if (this.peek() == 0x65 || this.peek() == 0x45) {
      this.pos++;
      if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
      if (this.digits() == 0) return this.fail("invalid number");
    }
    const v = new JsonValue();
    v.kind = Kind.Number;
    v.num = parseNumber(this.text.substring(start, this.pos));
    return v;
  }

  array(): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = Kind.Array;
    this.skipWs();
    if (this.peek() == 0x5d) { this.pos++; return v; }
    for (;;) {
      const item = this.value();
      if (item == null) return null;
      v.items.push(item);
      this.skipWs();
      const c = this.peek();
      this.pos++;
      if (c == 0x2c) continue;
      if (c == 0x5d) return v;
      return this.fail("expected ',' or ']' in array");
    }
  }

  object(): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = Kind.Object;
    this.skipWs();
    if (this.peek() == 0x7d) { this.pos++; return v; }
    for (;;) {
      this.skipWs();
      if (this.peek() != 0x22) return this.fail("expected a string key in object");
      const key = this.string();
      if (key == null) return null;
      this.skipWs();
      if (this.peek() != 0x3a) return this.fail("expected ':' in object");
      this.pos++;
      const item = this.value();
      if (item == null) return null;
      v.keys.push(key.str);
      v.items.push(item);
      this.skipWs();
      const c = this.peek();
      this.pos++;
      if (c == 0x2c) continue;
      if (c == 0x7d) return v;
      return this.fail("expected ',' or '}' in object");
    }
  }
}

const POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

// Exactly rounded when the decimal mantissa fits in 2^53 and the exponent in
// 10^±22 (every amount a handler sees), like the C and JavaScript readers.
function parseNumber(text: string): f64 {
  let mantissa: u64 = 0;
  let exp10: i32 = 0;
  let significant = 0;
  let i = 0;
  const negative = text.charCodeAt(0) == 0x2d;
  if (negative) i++;
  let fraction = false;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x2e) { fraction = true; continue; }
    if (c == 0x65 || c == 0x45) break;
    if (significant < 19) {
      mantissa = mantissa * 10 + <u64>(c - 0x30);
      if (mantissa != 0) significant++;
      if (fraction) exp10--;
    } else if (!fraction) exp10++;
  }
  if (i < text.length) exp10 += I32.parseInt(text.substring(i + 1), 10);
  if (mantissa > 9007199254740992 || exp10 > 22 || exp10 < -22) return F64.parseFloat(text);
  let value = <f64>mantissa;
  const scale = unchecked(POW10[abs<i32>(exp10)]);
  value = exp10 >= 0 ? value * scale : value / scale;
  return negative ? -value : value;
}

/** Parses a complete JSON text; null (with `error` set) when it is not one. */
export class ParseResult {
  value: JsonValue | null = null;
  error: string = "";
}

export function parse(text: string): ParseResult {
  const p = new Parser(text);
  const r = new ParseResult();
  let v = p.value();
  if (v != null) {
    p.skipWs();
    if (p.pos != text.length) v = p.fail("trailing characters after JSON value");
  }
  r.value = v;
  r.error = p.error;
  return r;
}

/** `s` as a JSON string literal, quotes included. */
export function quote(s: string): string {
  const parts = new Array<string>();
  parts.push("\"");
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let escaped = "";
    if (c == 0x22) escaped = "\\\"";
    else if (c == 0x5c) escaped = "\\\\";
    else if (c == 0x0a) escaped = "\\n";
    else if (c == 0x0d) escaped = "\\r";
    else if (c == 0x09) escaped = "\\t";
    else if (c < 0x20) escaped = "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    if (escaped.length == 0) continue;
    parts.push(s.substring(start, i));
    parts.push(escaped);
    start = i + 1;
  }
  parts.push(s.substring(start));
  parts.push("\"");
  return parts.join("");
}
