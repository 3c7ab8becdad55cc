/**
 * Agent scripts in JavaScript: what an operator's screen shows for a call (title, caller facts,
 * the tenant's talk script, a form) and what happens to the submitted form. An agent script
 * cannot control the call.
 *
 * ```js
 * import { agentScript, Screen, Field, Accepted, Rejection } from "hotline-plugin-sdk/agent";
 *
 * export const { render, submit } = agentScript({
 *   render: (call) => new Screen("Orders").fact("Caller", call.caller),
 *   submit: (call, form) => new Accepted().disposition("resolved"),
 * });
 * ```
 *
 * A {@link HotlineError} escaping `submit` rejects the submission with the error under the
 * name {@link FORM_ERROR}, so the agent can try again.
 * @module
 */
import { HotlineError } from "./errors.js";

export { HotlineError, CallError, KvError, HttpError, LogError, GiveUp } from "./errors.js";
export * as kv from "./kv.js";
export * as http from "./http.js";
export * as log from "./log.js";
export * as clock from "./clock.js";

export const FORM_ERROR = "_form";

/** The call as an agent script sees it: its info and its variables now. */
export class Context {
  constructor(info, vars) {
    this.info = info;
    /** @type {Record<string, string>} */
    this.vars = Object.fromEntries(vars.map((v) => [v.name, v.value]));
  }
  get caller() {
    return this.info.caller;
  }
  get hotlineName() {
    return this.info.hotlineName;
  }
  /** @param {string} name @returns {string | null} */
  var(name) {
    return name in this.vars ? this.vars[name] : null;
  }
}

/** The submitted form. */
export class Form {
  constructor(values) {
    /** @type {Record<string, string>} */
    this.values = {};
    for (const v of values) if (!(v.name in this.values)) this.values[v.name] = v.value;
  }
  /** A field's value, trimmed; null when absent or blank. @param {string} name */
  get(name) {
    const v = (this.values[name] ?? "").trim();
    return v === "" ? null : v;
  }
}

/** A form field: `Field.text(name, label)`, `Field.number(...)`, ... then `.required()`. */
export class Field {
  constructor(name, label, kind) {
    this.name = name;
    this.label = label;
    this.kind = kind;
    this.isRequired = false;
    this.defaultValue = null;
  }
  static text(name, label) {
    return new Field(name, label, { tag: "text" });
  }
  static multiline(name, label) {
    return new Field(name, label, { tag: "multiline" });
  }
  static number(name, label) {
    return new Field(name, label, { tag: "number" });
  }
  /** @param {string} name @param {string} label @param {string[]} options */
  static choice(name, label, options) {
    return new Field(name, label, { tag: "choice", val: [...options] });
  }
  static checkbox(name, label) {
    return new Field(name, label, { tag: "checkbox" });
  }
  required() {
    this.isRequired = true;
    return this;
  }
  /** @param {string} value */
  default(value) {
    this.defaultValue = value;
    return this;
  }
  toWit() {
    return {
      name: this.name,
      label: this.label,
      kind: this.kind,
      required: this.isRequired,
      defaultValue: this.defaultValue,
    };
  }
}

/** The agent's screen: `new Screen(title).fact(..).step(..).field(..)`. */
export class Screen {
  /** @param {string} title */
  constructor(title) {
    this.title = title;
    this.facts = [];
    this.script = [];
    this.form = [];
  }
  fact(label, value) {
    this.facts.push({ label, value: String(value) });
    return this;
  }
  step(id, title, text) {
    this.script.push({ id, title, text });
    return this;
  }
  /** @param {Field} field */
  field(field) {
    this.form.push(field);
    return this;
  }
  toWit() {
    return {
      title: this.title,
      facts: this.facts,
      script: this.script,
      form: this.form.map((f) => f.toWit()),
    };
  }
}

/** An accepted submission: variables to set, a disposition to suggest, a note. */
export class Accepted {
  constructor() {
    this.vars = [];
    this.dispositionValue = null;
    this.messageValue = null;
  }
  var(name, value) {
    this.vars.push({ name, value: String(value) });
    return this;
  }
  disposition(d) {
    this.dispositionValue = d;
    return this;
  }
  message(m) {
    this.messageValue = m;
    return this;
  }
  toWit() {
    return {
      tag: "accepted",
      val: { vars: this.vars, disposition: this.dispositionValue, message: this.messageValue },
    };
  }
}

/** Field errors collected while checking a form; `.any` when one was noted. */
export class Rejection {
  constructor() {
    this.errors = [];
  }
  error(field, message) {
    this.errors.push({ name: field, message });
  }
  get any() {
    return this.errors.length > 0;
  }
  toWit() {
    return { tag: "rejected", val: this.errors };
  }
}

/**
 * Wrap a script's `render(call) => Screen` and `submit(call, form) => Accepted | Rejection`
 * as the world's exports: `export const { render, submit } = agentScript({...})`.
 */
export function agentScript(script) {
  return {
    render(info, vars) {
      return script.render(new Context(info, vars)).toWit();
    },
    submit(info, vars, form) {
      try {
        return script.submit(new Context(info, vars), new Form(form)).toWit();
      } catch (err) {
        if (!(err instanceof HotlineError)) throw err;
        const rejected = new Rejection();
        rejected.error(FORM_ERROR, err.message);
        return rejected.toWit();
      }
    },
  };
}
