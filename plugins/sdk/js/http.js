/**
 * Outbound HTTP to the hosts the tenant allowlists. Bodies are text; any status is a response
 * (check `response.ok`); a timeout, a refused connection or a host off the allowlist throws
 * {@link HttpError}.
 * @module
 */
import wit from "hotline:plugin/http@0.1.0";
import { HttpError, hostCall } from "./errors.js";

/** A response of any status. */
export class Response {
  constructor(r) {
    /** @type {number} */ this.status = r.status;
    /** @type {[string, string][]} names in lower case */ this.headers = r.headers;
    /** @type {string} */ this.body = r.body;
  }
  /** A 2xx status. */
  get ok() {
    return this.status >= 200 && this.status < 300;
  }
  /** The first header of this name (case-insensitive). @param {string} name */
  header(name) {
    const wanted = name.toLowerCase();
    const found = this.headers.find(([key]) => key.toLowerCase() === wanted);
    return found ? found[1] : null;
  }
  /** The body parsed as JSON (throws SyntaxError if it is not). */
  json() {
    return JSON.parse(this.body);
  }
}

/**
 * @typedef {object} RequestOptions
 * @property {Record<string, string>} [headers]
 * @property {number} [timeoutMs] overrides the tenant's default (at most 10,000)
 */

function send(method, url, body, options = {}) {
  const request = {
    method,
    url,
    headers: Object.entries(options.headers || {}),
    body: body === undefined ? null : body,
    timeoutMs: options.timeoutMs === undefined ? null : options.timeoutMs,
  };
  return new Response(hostCall(HttpError, () => wit.send(request)));
}

/** GET `url`. @param {string} url @param {RequestOptions} [options] @returns {Response} */
export function get(url, options) {
  return send("get", url, undefined, options);
}

/**
 * POST `body` (at most 64 KiB of text) to `url`.
 * @param {string} url @param {string} body @param {RequestOptions} [options] @returns {Response}
 */
export function post(url, body, options) {
  return send("post", url, body, options);
}

/**
 * `text` percent-encoded for a URL's query (`+421...` becomes `%2B421...`); keeps only
 * A-Z a-z 0-9 - _ . ~ as they are.
 * @param {string} text
 */
export function encodeQuery(text) {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}
