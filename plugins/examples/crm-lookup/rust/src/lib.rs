//! CRM lookup: asks the tenant's CRM (`crm.example.com`, on the tenant's HTTP allowlist) who is
//! calling. A known customer's name goes into the `customer_name` variable for the agent's
//! screen pop; VIP customers skip ahead in the priority queue, everyone else waits in support.
//! A CRM that is down, slow (2 s timeout) or answers nonsense never blocks the call: the
//! caller goes to the support queue and the plugin log says why.

use hotline::{http, log, Call, Outcome, Result};
use serde::Deserialize;

const CRM: &str = "https://crm.example.com/api/customers";

#[derive(Deserialize)]
struct Customer {
    name: String,
    #[serde(default)]
    tier: String,
}

enum Lookup {
    Known(Customer),
    Unknown,
    Unavailable(String),
}

fn lookup(caller: &str) -> Lookup {
    let url = format!("{CRM}?phone={}", http::encode_query(caller));
    let response = match http::get(url)
        .header("accept", "application/json")
        .timeout_ms(2_000)
        .send()
    {
        Ok(response) => response,
        Err(e) => return Lookup::Unavailable(e.to_string()),
    };
    match response.status {
        200 => match serde_json::from_str::<Customer>(&response.body) {
            Ok(customer) => Lookup::Known(customer),
            Err(_) => {
                Lookup::Unavailable("the CRM answered something that is not a customer".into())
            }
        },
        404 => Lookup::Unknown,
        status => Lookup::Unavailable(format!("the CRM answered {status}")),
    }
}

#[hotline::ivr]
fn handle(call: &mut Call) -> Result<Outcome> {
    let found = if call.is_anonymous() {
        Lookup::Unknown
    } else {
        lookup(call.caller())
    };
    let (queue, priority) = match found {
        Lookup::Known(customer) => {
            call.set_var("customer_name", &customer.name)?;
            call.set_var("customer_tier", &customer.tier)?;
            if customer.tier == "vip" {
                log::info(format!("VIP caller {}", customer.name));
                ("priority", 9)
            } else {
                ("support", 0)
            }
        }
        Lookup::Unknown => ("support", 0),
        Lookup::Unavailable(why) => {
            log::warn(format!("CRM unavailable: {why}"));
            call.set_var("crm", "unavailable")?;
            ("support", 0)
        }
    };
    call.play("welcome")?;
    call.enqueue(queue).priority(priority).run()?;
    Ok(Outcome::Operator)
}
