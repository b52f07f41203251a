// OtterMQ handler support for JavaScript: the component shape.
//
// componentize-js builds a component from an ES module exporting
// `handle(input: string): string`. Returning a string is `ok`; throwing a
// value `{ payload: string }` is `err(payload)`. `handlerExport` turns a
// plain function `(parsedInput) => output` into that export, so a handler
// only throws a `Failure` (`permanent: true` means: do not retry).

const MAX_SAFE = 2 ** 53;

export class Failure {
  constructor(message, permanent) {
    this.message = message;
    this.permanent = permanent;
  }
}

/** A failure that retrying cannot fix: the task is dead-lettered. */
export const permanent = (message) => new Failure(message, true);

/** A failure worth retrying (with the pipeline's backoff). */
export const retryable = (message) => new Failure(message, false);

export const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

export const isNonEmptyString = (v) => typeof v === "string" && v.length > 0;

/** A JSON number with an integral value in [-2^53, 2^53], such as 3 or 3.0. */
export const isInteger = (v) => typeof v === "number" && Number.isInteger(v) && Math.abs(v) <= MAX_SAFE;

/** Money: an amount in currency units to integer cents, half away from zero. */
export function cents(amount) {
  const scaled = amount * 100;
  const rounded = Math.floor(Math.abs(scaled) + 0.5);
  return scaled < 0 ? -rounded : rounded;
}

export function handlerExport(handle) {
  return (input) => {
    try {
      let parsed;
      try {
        parsed = JSON.parse(input);
      } catch (e) {
        throw permanent(`invalid JSON: ${e.message}`);
      }
      return JSON.stringify(handle(parsed));
    } catch (e) {
      if (!(e instanceof Failure)) throw e;
      throw { payload: JSON.stringify({ message: e.message, permanent: e.permanent }) };
    }
  };
}
