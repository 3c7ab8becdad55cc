"""CRM lookup: asks the tenant's CRM (`crm.example.com`, on the tenant's HTTP allowlist) who is
calling. A known customer's name goes into the `customer_name` variable for the agent's screen
pop; VIP customers skip ahead in the priority queue, everyone else waits in support. A CRM that
is down, slow (2 s timeout) or answers nonsense never blocks the call: the caller goes to the
support queue and the plugin log says why."""

import hotline
from hotline import Call, HttpError, Outcome, http, log

CRM = "https://crm.example.com/api/customers"


class Unavailable(Exception):
    pass


def lookup(caller: str):
    """The customer as a dict with `name` and `tier`, or None when the CRM does not know them."""
    url = f"{CRM}?phone={http.encode_query(caller)}"
    try:
        response = http.get(url, headers={"accept": "application/json"}, timeout_ms=2_000)
    except HttpError as err:
        raise Unavailable(str(err)) from None
    if response.status == 404:
        return None
    if response.status != 200:
        raise Unavailable(f"the CRM answered {response.status}")
    try:
        customer = response.json()
    except ValueError:
        customer = None
    name = customer.get("name") if isinstance(customer, dict) else None
    tier = customer.get("tier", "") if isinstance(customer, dict) else None
    if not isinstance(name, str) or not isinstance(tier, str):
        raise Unavailable("the CRM answered something that is not a customer")
    return {"name": name, "tier": tier}


@hotline.ivr
def handle(call: Call):
    queue, priority = "support", 0
    try:
        customer = None if call.is_anonymous else lookup(call.caller)
    except Unavailable as why:
        log.warn(f"CRM unavailable: {why}")
        call.set_var("crm", "unavailable")
        customer = None
    if customer is not None:
        call.set_var("customer_name", customer["name"])
        call.set_var("customer_tier", customer["tier"])
        if customer["tier"] == "vip":
            log.info(f"VIP caller {customer['name']}")
            queue, priority = "priority", 9
    call.play("welcome")
    call.enqueue(queue, priority=priority)
    return Outcome.operator()
