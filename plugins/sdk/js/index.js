/**
 * Write Hotline IVR plugins in JavaScript (QuickJS, built with componentize-qjs). A thin layer
 * over the `hotline:plugin@0.1.0` WIT imports; agent scripts import `hotline-plugin-sdk/agent`.
 *
 * ```js
 * import { ivr, Outcome } from "hotline-plugin-sdk";
 *
 * export const handleCall = ivr((call) => {
 *   call.play("welcome");
 *   const got = call.collect({ prompt: "menu", retryPrompt: "sorry", retries: 2 });
 *   if (got.digits === "1") {
 *     call.enqueue("sales", { priority: 5, skills: ["ru"] });
 *     return Outcome.operator();
 *   }
 *   return Outcome.fallback("no valid choice");
 * });
 * ```
 *
 * A {@link HotlineError} escaping the handler is not a crash: a hung-up caller ends as
 * `caller-hung-up`, a handed-off call as `operator`, anything else as `fallback` with the error
 * as the reason. Other exceptions are bugs: the host stops the plugin and the hotline's
 * fallback takes the call. Never wait or spin: CPU counts against the tenant's budget, while
 * waiting for the caller through host calls is free.
 * @module
 */
import { Call } from "./call.js";
import { CallError, HotlineError } from "./errors.js";

export { Call, silence } from "./call.js";
export { HotlineError, CallError, KvError, HttpError, LogError, GiveUp } from "./errors.js";
export * as kv from "./kv.js";
export * as http from "./http.js";
export * as log from "./log.js";
export * as clock from "./clock.js";

/** How an IVR handler ends its part of the call (the WIT `outcome` variant). */
export const Outcome = Object.freeze({
  /** The plugin answered the caller's question (the host hangs up if it did not). */
  selfServed: () => ({ tag: "self-served" }),
  /** The caller was handed to a person with `enqueue` or a transfer. */
  operator: () => ({ tag: "operator" }),
  callerHungUp: () => ({ tag: "caller-hung-up" }),
  /** Give up: the hotline's fallback takes the call; `reason` goes to the plugin log. */
  fallback: (reason) => ({ tag: "fallback", val: String(reason) }),
});

function outcomeOf(err) {
  if (err instanceof CallError && err.hungUp) return Outcome.callerHungUp();
  if (err instanceof CallError && err.handedOff) return Outcome.operator();
  return Outcome.fallback(err.message);
}

/**
 * Wrap `handler(call) => outcome` as the plugin's `handle-call` export:
 * `export const handleCall = ivr((call) => ...)`.
 * @param {(call: Call) => { tag: string, val?: string }} handler
 */
export function ivr(handler) {
  return function handleCall(info) {
    try {
      return handler(new Call(info));
    } catch (err) {
      if (err instanceof HotlineError) return outcomeOf(err);
      throw err;
    }
  };
}
