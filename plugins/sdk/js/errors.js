/**
 * Errors of host calls, as exceptions a plugin can catch by area (call, kv, http, log). The
 * messages match the Rust and Python SDKs word for word, so a plugin's fallback reason and log
 * lines read the same whichever language it is written in.
 * @module
 */

const CALL = {
  "hung-up": () => "the caller hung up",
  "handed-off": () => "the call was already handed off",
  "unknown-prompt": (d) => `unknown prompt ${d}`,
  "unknown-queue": (d) => `unknown queue ${d}`,
  "unknown-agent": (d) => `unknown agent ${d}`,
  "invalid-number": (d) => `invalid number ${d}`,
  "invalid-argument": (d) => `invalid argument: ${d}`,
  "queue-refused": (d) => `queue refused the call: ${d}`,
  "transfer-failed": (d) => `transfer failed: ${d}`,
  "rate-limited": () => "rate-limited",
  "quota-exceeded": (d) => `quota exceeded: ${d}`,
  "unavailable": (d) => `unavailable: ${d}`,
};

const KV = {
  "invalid-key": (d) => `invalid key: ${d}`,
  "value-too-large": (d) => `value larger than ${d} bytes`,
  "quota-exceeded": (d) => `quota exceeded: ${d}`,
  "rate-limited": () => "rate-limited",
  "not-a-number": () => "the stored value is not a number",
  "unavailable": (d) => `unavailable: ${d}`,
};

const HTTP = {
  "invalid-url": (d) => `invalid URL ${d}`,
  "host-not-allowed": (d) => `host ${d} is not on the tenant's allowlist`,
  "invalid-request": (d) => `invalid request: ${d}`,
  "request-too-large": (d) => `request body over ${d} bytes`,
  "response-too-large": (d) => `response body over ${d} bytes`,
  "not-text": () => "the response is not UTF-8 text",
  "timeout": () => "timeout",
  "connection-failed": (d) => `connection failed: ${d}`,
  "rate-limited": () => "rate-limited",
};

const LOG = {
  "too-long": (d) => `line longer than ${d} bytes`,
  "budget-exhausted": (d) => `this call's ${d} bytes of log are used up`,
};

const DESCRIBE = { call: CALL, kv: KV, http: HTTP, log: LOG };

/** A host call refused, or a plugin's own reason to give up ({@link GiveUp}). */
export class HotlineError extends Error {
  /**
   * @param {string} area `call`, `kv`, `http`, `log` or `plugin`
   * @param {string} kind the WIT case name, e.g. `unknown-queue`, `timeout`
   * @param {*} [detail] the case's payload, if any
   */
  constructor(area, kind, detail) {
    const describe = (DESCRIBE[area] || {})[kind];
    const text = describe ? describe(detail) : detail === undefined ? kind : `${kind}: ${detail}`;
    super(`${area}: ${text}`);
    this.name = "HotlineError";
    this.area = area;
    this.kind = kind;
    this.detail = detail;
  }
}

/** Call control refused (unknown queue or prompt, refused queue, failed transfer...). */
export class CallError extends HotlineError {
  constructor(kind, detail) {
    super("call", kind, detail);
    this.name = "CallError";
  }
  /** The caller hung up: escaping the handler, the outcome is `caller-hung-up`. */
  get hungUp() {
    return this.kind === "hung-up";
  }
  /** The call already belongs to a queue, an agent or a number: the outcome is `operator`. */
  get handedOff() {
    return this.kind === "handed-off";
  }
}

export class KvError extends HotlineError {
  constructor(kind, detail) {
    super("kv", kind, detail);
    this.name = "KvError";
  }
}

/** No HTTP response came back (a 404 or 500 is a response, not an error). */
export class HttpError extends HotlineError {
  constructor(kind, detail) {
    super("http", kind, detail);
    this.name = "HttpError";
  }
}

export class LogError extends HotlineError {
  constructor(kind, detail) {
    super("log", kind, detail);
    this.name = "LogError";
  }
}

/** Throw to end the call in the hotline's fallback with `reason`. */
export class GiveUp extends HotlineError {
  /** @param {string} reason */
  constructor(reason) {
    super("plugin", "give-up", reason);
    this.name = "GiveUp";
    this.message = reason;
  }
}

/**
 * Run a generated binding, turning the error it throws (`{ payload: { tag, val } }`) into
 * the SDK's exception class.
 * @template T
 * @param {new (kind: string, detail: *) => HotlineError} Class
 * @param {() => T} fn
 * @returns {T}
 */
export function hostCall(Class, fn) {
  try {
    return fn();
  } catch (e) {
    const payload = e && typeof e === "object" && "payload" in e ? e.payload : undefined;
    if (payload && typeof payload === "object" && "tag" in payload) {
      throw new Class(payload.tag, payload.val);
    }
    throw e;
  }
}
