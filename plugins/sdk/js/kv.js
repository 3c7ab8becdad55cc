/**
 * The tenant's key-value store: small durable text shared by all of the tenant's plugins and
 * invisible to other tenants. Every function throws {@link KvError} when the store refuses.
 * @module
 */
import wit from "hotline:plugin/kv@0.1.0";
import { KvError, hostCall } from "./errors.js";

/** @param {string} key @returns {string | null} the value under `key`, or null */
export function get(key) {
  return hostCall(KvError, () => wit.get(key));
}

/** Store `value` under `key`, replacing what was there. @param {string} key @param {string} value */
export function set(key, value) {
  hostCall(KvError, () => wit.set(key, String(value)));
}

/** Remove `key`. @param {string} key @returns {boolean} true if it existed */
export function del(key) {
  return hostCall(KvError, () => wit.delete(key));
}

/**
 * Add `by` to the integer under `key` (missing counts as 0), atomically.
 * @param {string} key @param {number} [by=1] @returns {number} the new value
 */
export function increment(key, by = 1) {
  return Number(hostCall(KvError, () => wit.increment(key, by)));
}

/**
 * Keys starting with `prefix`, in byte order.
 * @param {string} prefix @param {number} [limit=100] 1 to 1,000 @returns {string[]}
 */
export function listKeys(prefix, limit = 100) {
  return hostCall(KvError, () => wit.listKeys(prefix, limit));
}
