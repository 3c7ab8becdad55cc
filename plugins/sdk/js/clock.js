/**
 * The tenant's wall clock (its time zone, daylight saving included). In the simulator this is
 * the scenario's time, moved on by every prompt and wait.
 * @module
 */
import wit from "hotline:plugin/clock@0.1.0";

const pad = (n, width = 2) => String(n).padStart(width, "0");

/**
 * A moment on the tenant's clock. `weekday` is `"monday"` ... `"sunday"`.
 */
export class LocalTime {
  /** @param {*} t the WIT `local-time` record */
  constructor(t) {
    /** @type {number} */ this.year = t.year;
    /** @type {number} */ this.month = t.month;
    /** @type {number} */ this.day = t.day;
    /** @type {number} */ this.hour = t.hour;
    /** @type {number} */ this.minute = t.minute;
    /** @type {number} */ this.second = t.second;
    /** @type {string} */ this.weekday = t.weekday;
    /** @type {number} */ this.utcOffsetSeconds = t.utcOffsetSeconds;
    /** @type {number} */ this.unixMillis = Number(t.unixMillis);
    /** @type {string} */ this.timeZone = t.timeZone;
  }
  /** Minutes since local midnight (09:30 is 570), for opening-hours arithmetic. */
  get minuteOfDay() {
    return this.hour * 60 + this.minute;
  }
  /** `YYYY-MM-DD`. */
  get date() {
    return `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}`;
  }
  /** `MM-DD`, for holidays on the same date every year. */
  get monthDay() {
    return `${pad(this.month)}-${pad(this.day)}`;
  }
  get isWeekend() {
    return this.weekday === "saturday" || this.weekday === "sunday";
  }
}

/** Now, in the tenant's time zone. @returns {LocalTime} */
export function now() {
  return new LocalTime(wit.now());
}

/** A Unix instant (milliseconds) in the tenant's time zone. @param {number} unixMillis */
export function at(unixMillis) {
  return new LocalTime(wit.at(unixMillis));
}
