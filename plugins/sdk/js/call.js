/**
 * The caller's call: what is known of it and every call-control verb as a method. Each verb is
 * a host call that suspends the plugin (no CPU budget is used while a prompt plays or keys are
 * awaited) and throws {@link CallError} when refused.
 * @module
 */
import wit from "hotline:plugin/call@0.1.0";
import { CallError, hostCall } from "./errors.js";
import { LocalTime } from "./clock.js";

/**
 * A prompt's name, or a pause from {@link silence}.
 * @typedef {string | { tag: "named", val: string } | { tag: "silence", val: number }} PromptLike
 */

/** A pause of `ms` milliseconds (at most 60,000), to pass where a prompt goes. */
export function silence(ms) {
  return { tag: "silence", val: ms };
}

function prompt(p) {
  if (p === undefined || p === null) return null;
  return typeof p === "string" ? { tag: "named", val: p } : p;
}

const call = (fn) => hostCall(CallError, fn);

/**
 * @typedef {object} CollectOptions
 * @property {PromptLike} [prompt] played at each attempt; a key pressed meanwhile starts the input
 * @property {PromptLike} [retryPrompt] played before each attempt after the first
 * @property {number} [minDigits=1]
 * @property {number} [maxDigits=1]
 * @property {string} [terminators=""] keys that end the input, e.g. "#"
 * @property {number} [firstDigitTimeoutMs=5000]
 * @property {number} [interDigitTimeoutMs=3000]
 * @property {number} [totalTimeoutMs=0] 0: no limit but the others
 * @property {number} [retries=0] more attempts after one with no input (0 to 5)
 */

/**
 * What `collect` gathered.
 * @typedef {object} Collected
 * @property {string} digits without the terminator; empty on no input
 * @property {string | null} terminator
 * @property {"max-digits" | "terminator" | "inter-digit-timeout" | "total-timeout" | "no-input"} end
 * @property {number} attempts
 * @property {boolean} noInput every attempt ended without enough keys
 */

/** The call an IVR plugin runs for (the handler's argument). */
export class Call {
  /** @param {*} info the WIT `call-info` record */
  constructor(info) {
    this.info = info;
  }
  /** The caller's number in E.164, or `anonymous`. */
  get caller() {
    return this.info.caller;
  }
  get isAnonymous() {
    return this.info.caller === "anonymous";
  }
  get dialed() {
    return this.info.dialed;
  }
  /** The hotline's prompt language (BCP 47, e.g. `en`). */
  get language() {
    return this.info.language;
  }
  get hotlineName() {
    return this.info.hotlineName;
  }
  get callId() {
    return this.info.callId;
  }
  /** @returns {LocalTime} */
  get arrivedAt() {
    return new LocalTime(this.info.arrivedAt);
  }
  /** The hotline's schedule says it is open. */
  get isOpen() {
    return this.info.branch === "open";
  }

  answer() {
    call(() => wit.answer());
  }

  /**
   * Play a prompt. With `bargeIn`, one of `keys` (empty: any) stops it and is returned.
   * @param {PromptLike} p
   * @param {{ bargeIn?: boolean, keys?: string }} [options]
   * @returns {string | null}
   */
  play(p, options = {}) {
    const opts = { bargeIn: options.bargeIn || false, bargeInDigits: options.keys || "" };
    return call(() => wit.play(prompt(p), opts));
  }

  /**
   * Gather the caller's keys. The defaults suit a one-key menu.
   * @param {CollectOptions} [options]
   * @returns {Collected}
   */
  collect(options = {}) {
    const maxDigits = options.maxDigits ?? 1;
    const opts = {
      prompt: prompt(options.prompt),
      retryPrompt: prompt(options.retryPrompt),
      minDigits: Math.min(options.minDigits ?? 1, maxDigits),
      maxDigits,
      terminators: options.terminators ?? "",
      firstDigitTimeoutMs: options.firstDigitTimeoutMs ?? 5000,
      interDigitTimeoutMs: options.interDigitTimeoutMs ?? 3000,
      totalTimeoutMs: options.totalTimeoutMs ?? 0,
      retries: options.retries ?? 0,
    };
    const got = call(() => wit.collect(opts));
    return { ...got, noInput: got.end === "no-input" };
  }

  /** Speak digits one by one (`"0421"`). @param {string} digits */
  sayDigits(digits) {
    call(() => wit.sayDigits(digits));
  }

  /** Speak a whole number. @param {number} n */
  sayNumber(n) {
    call(() => wit.sayNumber(n));
  }

  /**
   * Put the caller in one of the tenant's queues; then return `Outcome.operator()`.
   * @param {string} queue
   * @param {{ priority?: number, skills?: string[] }} [options]
   * @returns {{ position: number, estimatedWaitSeconds: number | null }}
   */
  enqueue(queue, options = {}) {
    const opts = { priority: options.priority ?? 0, requiredSkills: options.skills ?? [] };
    return call(() => wit.enqueue(queue, opts));
  }

  /** @param {string} agent SIP username */
  transferToAgent(agent) {
    call(() => wit.transfer({ tag: "agent", val: agent }));
  }

  /** @param {string} queue */
  transferToQueue(queue) {
    call(() => wit.transfer({ tag: "queue", val: queue }));
  }

  /** @param {string} number E.164 */
  transferToNumber(number) {
    call(() => wit.transfer({ tag: "number", val: number }));
  }

  /**
   * Offer a call back from `queue`.
   * @param {string} queue
   * @param {{ prompt?: PromptLike, acceptDigit?: string, timeoutMs?: number, number?: string }} [options]
   * @returns {string | null} the callback's id if the caller accepted
   */
  offerCallback(queue, options = {}) {
    const opts = {
      queue,
      prompt: prompt(options.prompt),
      acceptDigit: options.acceptDigit ?? "1",
      timeoutMs: options.timeoutMs ?? 5000,
      number: options.number ?? null,
    };
    const decision = call(() => wit.offerCallback(opts));
    return decision.tag === "scheduled" ? decision.val : null;
  }

  /**
   * Record a message into the tenant's voicemail.
   * @param {{ prompt?: PromptLike, maxDurationMs?: number, silenceTimeoutMs?: number, terminators?: string, beep?: boolean }} [options]
   * @returns {{ recordingId: string, durationMs: number }} the stored message
   */
  recordVoicemail(options = {}) {
    const opts = {
      prompt: prompt(options.prompt),
      maxDurationMs: options.maxDurationMs ?? 120000,
      silenceTimeoutMs: options.silenceTimeoutMs ?? 5000,
      terminators: options.terminators ?? "#",
      beep: options.beep ?? true,
    };
    return call(() => wit.recordVoicemail(opts));
  }

  /** Set a variable: it goes into the call record and the agent's screen pop. */
  setVar(name, value) {
    call(() => wit.setVar(name, String(value)));
  }

  /** @param {string} name @returns {string | null} */
  var(name) {
    return wit.getVar(name);
  }

  /** @returns {Record<string, string>} */
  vars() {
    return Object.fromEntries(wit.vars().map((v) => [v.name, v.value]));
  }

  /** End the call. @param {"normal" | "busy" | "rejected" | "unavailable"} [cause="normal"] */
  hangup(cause = "normal") {
    call(() => wit.hangup(cause));
  }
}
