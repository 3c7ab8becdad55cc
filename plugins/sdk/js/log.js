/**
 * The tenant's plugin log. `info()` and friends never fail the call: a line over the limit or
 * past the call's log budget is dropped (`write()` throws {@link LogError} instead).
 * @module
 */
import wit from "hotline:plugin/log@0.1.0";
import { LogError, hostCall } from "./errors.js";

/**
 * Append a line.
 * @param {"debug" | "info" | "warn" | "error"} level
 * @param {string} message
 */
export function write(level, message) {
  hostCall(LogError, () => wit.write(level, String(message)));
}

function quiet(level, message) {
  try {
    write(level, message);
  } catch (e) {
    if (!(e instanceof LogError)) throw e;
  }
}

/** @param {string} message */
export const debug = (message) => quiet("debug", message);
/** @param {string} message */
export const info = (message) => quiet("info", message);
/** @param {string} message */
export const warn = (message) => quiet("warn", message);
/** @param {string} message */
export const error = (message) => quiet("error", message);
