// CRM lookup: asks the tenant's CRM (`crm.example.com`, on the tenant's HTTP allowlist) who is
// calling. A known customer's name goes into the `customer_name` variable for the agent's
// screen pop; VIP customers skip ahead in the priority queue, everyone else waits in support.
// A CRM that is down, slow (2 s timeout) or answers nonsense never blocks the call: the caller
// goes to the support queue and the plugin log says why.
import { ivr, Outcome, HttpError, http, log } from "hotline-plugin-sdk";

const CRM = "https://crm.example.com/api/customers";

class Unavailable extends Error {}

/** The customer `{ name, tier }`, or null when the CRM does not know them. */
function lookup(caller) {
  const url = `${CRM}?phone=${http.encodeQuery(caller)}`;
  let response;
  try {
    response = http.get(url, { headers: { accept: "application/json" }, timeoutMs: 2000 });
  } catch (err) {
    if (err instanceof HttpError) throw new Unavailable(err.message);
    throw err;
  }
  if (response.status === 404) return null;
  if (response.status !== 200) throw new Unavailable(`the CRM answered ${response.status}`);
  let customer = null;
  try {
    customer = response.json();
  } catch {
    customer = null;
  }
  const isObject = customer !== null && typeof customer === "object" && !Array.isArray(customer);
  const name = isObject ? customer.name : undefined;
  const tier = isObject ? (customer.tier ?? "") : undefined;
  if (typeof name !== "string" || typeof tier !== "string") {
    throw new Unavailable("the CRM answered something that is not a customer");
  }
  return { name, tier };
}

export const handleCall = ivr((call) => {
  let queue = "support";
  let priority = 0;
  let customer = null;
  try {
    customer = call.isAnonymous ? null : lookup(call.caller);
  } catch (err) {
    if (!(err instanceof Unavailable)) throw err;
    log.warn(`CRM unavailable: ${err.message}`);
    call.setVar("crm", "unavailable");
  }
  if (customer !== null) {
    call.setVar("customer_name", customer.name);
    call.setVar("customer_tier", customer.tier);
    if (customer.tier === "vip") {
      log.info(`VIP caller ${customer.name}`);
      queue = "priority";
      priority = 9;
    }
  }
  call.play("welcome");
  call.enqueue(queue, { priority });
  return Outcome.operator();
});
