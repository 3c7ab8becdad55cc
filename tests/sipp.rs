//! End-to-end SIP tests: SIPp (Debian's `sip-tester`) plays the carriers and the operators'
//! phones against the built `hotline serve`, provisioned only through the REST API, and the
//! outcome is read back from SIPp's exit status and from the call history and registration
//! state the API shows.
//!
//! Each test starts its own server (SQLite in a temporary directory, SIP on a free 127.0.0.1
//! port, HTTP on another), because some of the state under test is process-wide: bans by source
//! address, the nonce lifetime, the call counters. Inside a test the scenarios that share
//! nothing run at the same time, each with its own agent, hotline and number, so the whole file
//! stays well inside the CI budget. Every failure is collected and reported together with the
//! SIPp logs of the scenario and the tail of the server's log; no scenario works around a
//! Hotline behaviour.
//!
//! Scenario files are in `tests/sipp/` (their headers say what each plays). Addresses used:
//! 127.0.0.1 is the carrier (the trunk's allowlist) and the phones; 127.0.0.2 a host that is
//! not a trunk; 127.0.0.3 another tenant's phone; 127.0.0.4 a password guesser; 127.0.0.5 a
//! phone with a wrong password; 127.0.0.6 a phone trying another tenant's realm.
//!
//! Without a `sipp` binary the tests say so on standard error and pass without running;
//! `scripts/test.sh` installs it, so CI always runs them.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::hotline::{
    all_ok, check_record, metric_value, sipp_available, Agent, Check, Expect, Hotline,
};
use support::sipp::Sipp;
use support::{free_port, free_udp_tcp_port};

/// The shortest ring timeout a hotline accepts.
const RING_TIMEOUT_S: u64 = 5;

/// Agents registering: digest with the right and a wrong password, an expired nonce,
/// unregistering, TCP, and a password-guessing flood that gets its source banned while another
/// tenant's phone still registers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations() {
    if !sipp_available("registrations") {
        return;
    }
    const NONCE_TTL_S: u64 = 1;
    let hotline = Hotline::start(&format!("nonce_ttl_secs = {NONCE_TTL_S}")).await;
    let acme = hotline.tenant("acme", 20).await;
    let globex = hotline.tenant("globex", 20).await;
    let jana = hotline.agent(&acme, "jana").await;
    let stale = hotline.agent(&acme, "slowpoke").await;
    let leaving = hotline.agent(&acme, "leaving").await;
    let over_tcp = hotline.agent(&acme, "tcp-phone").await;
    let victim = hotline.agent(&acme, "victim").await;
    let other = hotline.agent(&globex, "other").await;
    hotline.trunk(free_port()).await;
    let leaving_number = "+421255550201";
    hotline
        .number(
            &acme,
            leaving_number,
            json!({ "action": "forward-agent", "agent_id": leaving.id, "ring_timeout_s": RING_TIMEOUT_S }),
        )
        .await;

    hotline.wait_for_trunks("+421255550299").await;

    let h = &hotline;
    let register_ok: Check = Box::pin(async {
        let run = h
            .run(
                Sipp::new("register", "phone_register.xml")
                    .to(h.sip)
                    .service(&jana.username)
                    .credentials(&jana.username, &jana.password, &jana.domain),
            )
            .await;
        run.check()?;
        let state = h.registrations(&acme, &jana).await;
        let phone = &state["registrations"][0];
        if state["online"] != true
            || phone["transport"] != "udp"
            || phone["user_agent"] != "sipp-phone"
            || !phone["source"]
                .as_str()
                .unwrap_or("")
                .starts_with("127.0.0.1:")
        {
            return Err(format!("registration not shown as expected: {state:#}"));
        }
        Ok(())
    });
    let wrong_password: Check = Box::pin(async {
        let before = h
            .metric("hotline_sip_auth_failures_total", "reason=\"password\"")
            .await;
        let run = h
            .run(
                Sipp::new("wrong-password", "phone_register_wrong_password.xml")
                    .to(h.sip)
                    .local_ip("127.0.0.5")
                    .service(&jana.username)
                    .credentials(&jana.username, "not-the-password", &jana.domain),
            )
            .await;
        run.check()?;
        let after = h
            .metric("hotline_sip_auth_failures_total", "reason=\"password\"")
            .await;
        if after < before + 1.0 {
            return Err(format!(
                "hotline_sip_auth_failures_total{{reason=\"password\"}} went from {before} to {after}"
            ));
        }
        Ok(())
    });
    let stale_nonce: Check = Box::pin(async {
        let run = h
            .run(
                Sipp::new("stale-nonce", "phone_register_stale.xml")
                    .to(h.sip)
                    .service(&stale.username)
                    .credentials(&stale.username, &stale.password, &stale.domain)
                    .pause(Duration::from_millis(NONCE_TTL_S * 1000 + 1500)),
            )
            .await;
        run.check()?;
        let state = h.registrations(&acme, &stale).await;
        if state["online"] != true {
            return Err(format!("not registered after the stale nonce: {state:#}"));
        }
        Ok(())
    });
    let unregister: Check = Box::pin(async {
        let run = h
            .run(
                Sipp::new("unregister", "phone_unregister.xml")
                    .to(h.sip)
                    .service(&leaving.username)
                    .credentials(&leaving.username, &leaving.password, &leaving.domain),
            )
            .await;
        run.check()?;
        let state = h.registrations(&acme, &leaving).await;
        if state["online"] != false {
            return Err(format!("still registered after unregistering: {state:#}"));
        }
        // No phone left to ring: the hotline's no-answer status (480 by default), and a record
        // of a call refused for want of a route, not of one that rang unanswered.
        let call = h
            .run(h.refused("call-unregistered", leaving_number, 480))
            .await;
        call.check()?;
        let records = h.records(&acme, leaving_number, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is(
                    "/end_cause",
                    json!({ "cause": "rejected", "reason": "no_route", "status": 480 }),
                ),
                Expect::Is("/hangup_by", json!("system")),
                Expect::Is("/legs", json!([])),
            ],
        )
    });
    let foreign_realm: Check = Box::pin(async {
        // Another tenant's agent, with its own right password, in this tenant's realm: no
        // such user here, refused like a wrong password.
        let run = h
            .run(
                Sipp::new("foreign-realm", "phone_register_wrong_password.xml")
                    .to(h.sip)
                    .local_ip("127.0.0.6")
                    .service(&other.username)
                    .credentials(&other.username, &other.password, &acme.domain),
            )
            .await;
        run.check()
    });
    let tcp: Check = Box::pin(async {
        let run = h
            .run(
                Sipp::new("register-tcp", "phone_register.xml")
                    .to(h.sip)
                    .tcp()
                    .service(&over_tcp.username)
                    .credentials(&over_tcp.username, &over_tcp.password, &over_tcp.domain),
            )
            .await;
        run.check()?;
        let state = h.registrations(&acme, &over_tcp).await;
        if state["online"] != true || state["registrations"][0]["transport"] != "tcp" {
            return Err(format!("TCP registration not shown: {state:#}"));
        }
        Ok(())
    });
    let flood: Check = Box::pin(async {
        const GUESSES: u32 = 30;
        let guesses = h
            .run(
                Sipp::new("flood", "phone_register_flood.xml")
                    .to(h.sip)
                    .local_ip("127.0.0.4")
                    .service(&victim.username)
                    .credentials(&victim.username, "guess-guess-guess", &victim.domain)
                    .calls(GUESSES)
                    .arg("-r")
                    .arg("50"),
            )
            .await;
        guesses.check()?;
        // Banned now: even a well-formed REGISTER for someone else gets no challenge.
        let banned = h
            .run(
                Sipp::new("banned-source", "phone_register_banned.xml")
                    .to(h.sip)
                    .local_ip("127.0.0.4")
                    .service(&jana.username)
                    .credentials(&jana.username, &jana.password, &jana.domain),
            )
            .await;
        // While the ban holds, another tenant's phone on another address registers.
        let elsewhere = h
            .run(
                Sipp::new("other-tenant", "phone_register.xml")
                    .to(h.sip)
                    .local_ip("127.0.0.3")
                    .service(&other.username)
                    .credentials(&other.username, &other.password, &other.domain),
            )
            .await;
        all_ok(&[&banned, &elsewhere])?;
        let failures = h.metric("hotline_sip_auth_failures_total", "").await;
        let bans = h.metric("hotline_sip_bans_total", "kind=\"source\"").await;
        let refused = h
            .metric(
                "hotline_sip_register_refused_banned_total",
                "kind=\"source\"",
            )
            .await;
        if failures < 10.0 || bans < 1.0 || refused < 1.0 {
            return Err(format!(
                "after {GUESSES} guesses: auth failures {failures}, source bans {bans}, \
                 REGISTERs refused as banned {refused}"
            ));
        }
        let state = h.registrations(&globex, &other).await;
        if state["online"] != true {
            return Err(format!(
                "the other tenant's agent is not registered: {state:#}"
            ));
        }
        Ok(())
    });

    hotline
        .expect_all(vec![
            ("digest REGISTER", register_ok),
            ("wrong password", wrong_password),
            ("stale nonce", stale_nonce),
            ("unregister", unregister),
            ("another tenant's agent in this realm", foreign_realm),
            ("REGISTER over TCP", tcp),
            ("password flood", flood),
        ])
        .await;
}

/// Calls from a carrier through a trunk to a hotline that forwards them: to a registered agent
/// (answered and hung up by either side, cancelled, unanswered, put on hold, over TCP, over a
/// lossy link), to an external number through the outbound trunk, and the calls that must be
/// refused (unknown number, over the tenant's limit, not from a trunk).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_calls() {
    if !sipp_available("forwarded_calls") {
        return;
    }
    let hotline = Hotline::start("").await;
    let acme = hotline.tenant("acme", 50).await;
    let limited = hotline.tenant("limited", 1).await;
    let far_end_port = free_udp_tcp_port("127.0.0.1");
    let trunk = hotline.trunk(far_end_port).await;

    let forward = |agent: &Agent| {
        json!({
            "action": "forward-agent",
            "agent_id": agent.id,
            "ring_timeout_s": RING_TIMEOUT_S,
            "no_answer": { "action": "reject", "sip_status": 480 },
        })
    };
    let answering = hotline.agent(&acme, "answers").await;
    let hanging_up = hotline.agent(&acme, "hangs-up").await;
    let ringing = hotline.agent(&acme, "cancelled").await;
    let absent = hotline.agent(&acme, "absent").await;
    let holding = hotline.agent(&acme, "holds").await;
    let on_tcp = hotline.agent(&acme, "on-tcp").await;
    let lossy = hotline.agent(&acme, "lossy").await;
    let unanswered = hotline.agent(&acme, "unanswered").await;
    let limited_agent = hotline.agent(&limited, "busy").await;
    let (n_answer, n_agent_bye, n_cancel, n_no_answer, n_hold, n_tcp, n_lossy) = (
        "+421255550101",
        "+421255550102",
        "+421255550103",
        "+421255550104",
        "+421255550105",
        "+421255550106",
        "+421255550107",
    );
    let (n_external, n_refusing, n_unknown, n_limited, n_then_external) = (
        "+421255550108",
        "+421255550109",
        "+421255550110",
        "+421255550111",
        "+421255550112",
    );
    let (external, no_answer_external) = ("+421255550199", "+421255550198");
    for (number, agent) in [
        (n_answer, &answering),
        (n_agent_bye, &hanging_up),
        (n_cancel, &ringing),
        (n_no_answer, &absent),
        (n_hold, &holding),
        (n_tcp, &on_tcp),
        (n_lossy, &lossy),
    ] {
        hotline.number(&acme, number, forward(agent)).await;
    }
    hotline
        .number(&limited, n_limited, forward(&limited_agent))
        .await;
    hotline
        .number(
            &acme,
            n_external,
            json!({ "action": "forward-number", "number": external, "trunk_id": trunk, "ring_timeout_s": RING_TIMEOUT_S }),
        )
        .await;
    hotline
        .number(
            &acme,
            n_then_external,
            json!({
                "action": "forward-agent",
                "agent_id": unanswered.id,
                "ring_timeout_s": RING_TIMEOUT_S,
                "no_answer": { "action": "forward-number", "number": no_answer_external },
            }),
        )
        .await;
    hotline
        .number(
            &acme,
            n_refusing,
            json!({ "action": "reject", "sip_status": 486 }),
        )
        .await;

    let h = &hotline;
    h.wait_for_trunks(n_unknown).await;

    let completed_by = |by: &'static str, agent: &Agent| {
        vec![
            Expect::Is("/direction", json!("inbound")),
            Expect::Is("/end_cause/cause", json!("completed")),
            Expect::Is("/hangup_by", json!(by)),
            Expect::Is("/agent_id", json!(agent.id)),
            Expect::Set("/answered_at"),
            Expect::Set("/agent_answered_at"),
            Expect::Is("/legs/0/target/target", json!("agent")),
            Expect::Is("/legs/0/target/agent_id", json!(agent.id)),
            Expect::Set("/legs/0/answered_at"),
            Expect::Is("/legs/0/end", json!({ "end": "hung_up", "by": by })),
        ]
    };

    let caller_hangs_up: Check = Box::pin(async {
        let phone = h
            .phone("answer-phone", &answering, "phone_answer.xml", 1, false)
            .await?;
        let call = h
            .run(
                h.carrier("answer-carrier", "carrier_call.xml", n_answer)
                    .pause(Duration::from_secs(1)),
            )
            .await;
        all_ok(&[&call, &phone.finish().await])?;
        let records = h.records(&acme, n_answer, 1).await?;
        check_record(&records[0], &completed_by("caller", &answering))
    });
    let agent_hangs_up: Check = Box::pin(async {
        let phone = h
            .phone(
                "agent-bye-phone",
                &hanging_up,
                "phone_hangs_up.xml",
                1,
                false,
            )
            .await?;
        let call = h
            .run(h.carrier(
                "agent-bye-carrier",
                "carrier_call_callee_hangs_up.xml",
                n_agent_bye,
            ))
            .await;
        all_ok(&[&call, &phone.finish().await])?;
        let records = h.records(&acme, n_agent_bye, 1).await?;
        check_record(&records[0], &completed_by("agent", &hanging_up))
    });
    let cancel: Check = Box::pin(async {
        let phone = h
            .phone("cancel-phone", &ringing, "phone_no_answer.xml", 1, false)
            .await?;
        let call = h
            .run(
                h.carrier("cancel-carrier", "carrier_cancel.xml", n_cancel)
                    .pause(Duration::from_secs(1)),
            )
            .await;
        all_ok(&[&call, &phone.finish().await])?;
        let records = h.records(&acme, n_cancel, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/end_cause/cause", json!("abandoned")),
                Expect::Is("/hangup_by", json!("caller")),
                Expect::Unset("/answered_at"),
                Expect::Set("/legs/0/ringing_at"),
                Expect::Is("/legs/0/end", json!({ "end": "cancelled" })),
            ],
        )
    });
    let no_answer: Check = Box::pin(async {
        let phone = h
            .phone("no-answer-phone", &absent, "phone_no_answer.xml", 1, false)
            .await?;
        let call = h
            .run(h.refused("no-answer-carrier", n_no_answer, 480))
            .await;
        all_ok(&[&call, &phone.finish().await])?;
        let records = h.records(&acme, n_no_answer, 1).await?;
        let record = &records[0];
        check_record(
            record,
            &[
                Expect::Is("/end_cause/cause", json!("no_answer")),
                Expect::Is("/hangup_by", json!("system")),
                Expect::Unset("/answered_at"),
                Expect::Is("/legs/0/end", json!({ "end": "no_answer" })),
            ],
        )?;
        let rang = ring_duration(record).ok_or_else(|| format!("no ring times in {record:#}"))?;
        if rang < Duration::from_secs(RING_TIMEOUT_S) - Duration::from_millis(100) {
            return Err(format!(
                "gave up after {rang:?}, before the {RING_TIMEOUT_S} s ring timeout"
            ));
        }
        Ok(())
    });
    let hold: Check = Box::pin(async {
        let phone = h
            .phone("hold-phone", &holding, "phone_hold.xml", 1, false)
            .await?;
        let call = h
            .run(h.carrier("hold-carrier", "carrier_reinvite_hold.xml", n_hold))
            .await;
        all_ok(&[&call, &phone.finish().await])?;
        let records = h.records(&acme, n_hold, 1).await?;
        let mut expected = completed_by("caller", &holding);
        expected.extend([
            Expect::Is("/holds/0/by", json!("caller")),
            Expect::Set("/holds/0/ended_at"),
            Expect::Unset("/holds/1"),
        ]);
        check_record(&records[0], &expected)
    });
    let tcp: Check = Box::pin(async {
        let phone = h
            .phone("tcp-phone", &on_tcp, "phone_answer.xml", 1, true)
            .await?;
        let call = h
            .run(
                h.carrier("tcp-carrier", "carrier_call.xml", n_tcp)
                    .tcp()
                    .pause(Duration::from_millis(500)),
            )
            .await;
        all_ok(&[&call, &phone.finish().await])?;
        let records = h.records(&acme, n_tcp, 1).await?;
        check_record(&records[0], &completed_by("caller", &on_tcp))
    });
    let lossy_link: Check = Box::pin(async {
        const CALLS: u32 = 10;
        let phone = h
            .phone("lossy-phone", &lossy, "phone_answer.xml", CALLS, false)
            .await?;
        let calls = h
            .run(
                h.carrier("lossy-carrier", "carrier_call.xml", n_lossy)
                    .calls(CALLS)
                    .arg("-r")
                    .arg("5")
                    .lossy(10)
                    .pause(Duration::from_millis(500))
                    .timeout(Duration::from_secs(40)),
            )
            .await;
        all_ok(&[&calls, &phone.finish().await])?;
        let records = h.records(&acme, n_lossy, CALLS as usize).await?;
        for record in &records {
            check_record(
                record,
                &[Expect::Is("/end_cause/cause", json!("completed"))],
            )?;
        }
        Ok(())
    });
    // One far end behind the trunk takes both outbound legs: a hotline forwarding to a number,
    // and a hotline whose agent does not answer and whose no-answer target is a number.
    let outbound: Check = Box::pin(async {
        let far_end = Sipp::new("far-end", "carrier_uas.xml")
            .local_port(far_end_port)
            .calls(2)
            .timeout(Duration::from_secs(30))
            .spawn(&h.logs);
        let forwarded = h.run(
            h.carrier("external-carrier", "carrier_call.xml", n_external)
                .pause(Duration::from_secs(1)),
        );
        let after_no_answer = async {
            let phone = h
                .phone(
                    "unanswered-phone",
                    &unanswered,
                    "phone_no_answer.xml",
                    1,
                    false,
                )
                .await?;
            let call = h
                .run(
                    h.carrier("then-external-carrier", "carrier_call.xml", n_then_external)
                        .pause(Duration::from_secs(1)),
                )
                .await;
            Ok::<_, String>((call, phone.finish().await))
        };
        let (forwarded, after_no_answer) = tokio::join!(forwarded, after_no_answer);
        let far_end = far_end.finish().await;
        let (then_external, phone) = after_no_answer?;
        all_ok(&[&forwarded, &then_external, &phone, &far_end])?;
        for number in [external, no_answer_external] {
            if !far_end
                .messages()
                .contains(&format!("INVITE sip:{number}@"))
            {
                return Err(format!(
                    "no outbound INVITE for {number}:\n{}",
                    far_end.report()
                ));
            }
        }
        let records = h.records(&acme, n_external, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/end_cause/cause", json!("completed")),
                Expect::Is("/hangup_by", json!("caller")),
                Expect::Is(
                    "/legs/0/target",
                    json!({ "target": "external", "number": external, "trunk_id": trunk }),
                ),
                Expect::Set("/legs/0/answered_at"),
                Expect::Is("/legs/0/end", json!({ "end": "hung_up", "by": "caller" })),
                Expect::Unset("/agent_answered_at"),
            ],
        )?;
        let records = h.records(&acme, n_then_external, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/end_cause/cause", json!("completed")),
                Expect::Is("/hangup_by", json!("caller")),
                Expect::Is("/legs/0/target/agent_id", json!(unanswered.id)),
                Expect::Is("/legs/0/end", json!({ "end": "no_answer" })),
                Expect::Is(
                    "/legs/1/target",
                    json!({ "target": "external", "number": no_answer_external, "trunk_id": trunk }),
                ),
                Expect::Set("/legs/1/answered_at"),
                Expect::Is("/legs/1/end", json!({ "end": "hung_up", "by": "caller" })),
                Expect::Unset("/agent_answered_at"),
            ],
        )
    });
    let over_limit: Check = Box::pin(async {
        let phone = h
            .phone("limit-phone", &limited_agent, "phone_answer.xml", 1, false)
            .await?;
        let answered = h.logs.join("limit-first-call.answered");
        let mut first = h
            .carrier("limit-first-call", "carrier_call.xml", n_limited)
            .pause(Duration::from_secs(3))
            .set("answered_flag", &answered.display().to_string())
            .spawn(&h.logs);
        if let Err(why) = first
            .wait_for_file(&answered, Duration::from_secs(10))
            .await
        {
            let first = first.finish().await;
            return Err(format!(
                "{why}\n{}",
                all_ok(&[&first, &phone.finish().await])
                    .err()
                    .unwrap_or_default()
            ));
        }
        let second = h.run(h.refused("limit-second-call", n_limited, 503)).await;
        let first = first.finish().await;
        all_ok(&[&first, &second, &phone.finish().await])?;
        let records = h.records(&limited, n_limited, 2).await?;
        let refused = records
            .iter()
            .find(|r| r["end_cause"]["cause"] == "rejected")
            .ok_or_else(|| format!("no rejected call among {records:#?}"))?;
        check_record(
            refused,
            &[
                Expect::Is(
                    "/end_cause",
                    json!({ "cause": "rejected", "reason": "over_limit", "status": 503 }),
                ),
                Expect::Is("/hangup_by", json!("system")),
                Expect::Unset("/legs/0"),
            ],
        )?;
        let answered_call = records
            .iter()
            .find(|r| r["end_cause"]["cause"] == "completed")
            .ok_or_else(|| format!("no completed call among {records:#?}"))?;
        check_record(answered_call, &completed_by("caller", &limited_agent))?;
        // The limited tenant's calls stay its own.
        h.records(&acme, n_limited, 0).await.map(|_| ())
    });
    let configured_reject: Check = Box::pin(async {
        let call = h.run(h.refused("configured-reject", n_refusing, 486)).await;
        call.check()?;
        let records = h.records(&acme, n_refusing, 1).await?;
        check_record(
            &records[0],
            &[Expect::Is(
                "/end_cause",
                json!({ "cause": "rejected", "reason": "configured", "status": 486 }),
            )],
        )
    });
    // The probe's 404: refused before a tenant was known, so only the platform has its record.
    // (The INVITEs refused as not from a trunk leave none: the SIP stack refuses them before
    // the call engine sees a call.)
    let unknown_number: Check = Box::pin(async {
        let records = h.tenantless_records(1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/dialed", json!(n_unknown)),
                Expect::Unset("/tenant_id"),
                Expect::Is(
                    "/end_cause",
                    json!({ "cause": "rejected", "reason": "unknown_number", "status": 404 }),
                ),
                Expect::Is("/hangup_by", json!("system")),
                Expect::Is("/phase_at_end", json!("routing")),
            ],
        )
    });
    let not_a_trunk: Check = Box::pin(async {
        // A number that exists (its hotline would answer 486): the 403 comes from the address.
        let call = h
            .run(
                h.refused("not-a-trunk", n_refusing, 403)
                    .local_ip("127.0.0.2"),
            )
            .await;
        call.check()
    });

    hotline
        .expect_all(vec![
            ("caller hangs up", caller_hangs_up),
            ("agent hangs up", agent_hangs_up),
            ("CANCEL before answer", cancel),
            ("no answer -> reject 480", no_answer),
            ("re-INVITE hold and resume", hold),
            ("TCP", tcp),
            ("10 % loss on the caller's link", lossy_link),
            (
                "outbound trunk: forward to a number, no-answer target a number",
                outbound,
            ),
            ("over the tenant's concurrent-call limit", over_limit),
            ("hotline rejects as configured", configured_reject),
            (
                "unknown number 404, on the platform's record",
                unknown_number,
            ),
            ("INVITE from an address that is not a trunk", not_a_trunk),
        ])
        .await;
}

/// How long the first leg rang: from its creation to its end.
fn ring_duration(record: &Value) -> Option<Duration> {
    let time = |pointer: &str| {
        record
            .pointer(pointer)
            .and_then(Value::as_str)
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
    };
    let (from, to) = (time("/legs/0/created_at")?, time("/legs/0/ended_at")?);
    (to - from).to_std().ok()
}

#[test]
fn metric_values_are_read_by_name_and_labels() {
    let page = "# HELP x y\n\
                hotline_sip_bans_total{kind=\"source\"} 2\n\
                hotline_sip_bans_total{kind=\"user\"} 1\n\
                hotline_sip_auth_failures_total{reason=\"password\"} 12\n\
                hotline_sip_auth_failures_total{reason=\"uri\"} 1\n\
                hotline_up 1\n";
    assert_eq!(
        metric_value(page, "hotline_sip_bans_total", "kind=\"source\""),
        2.0
    );
    assert_eq!(metric_value(page, "hotline_sip_bans_total", ""), 3.0);
    assert_eq!(
        metric_value(page, "hotline_sip_auth_failures_total", ""),
        13.0
    );
    assert_eq!(metric_value(page, "hotline_up", ""), 1.0);
    assert_eq!(metric_value(page, "hotline_missing", ""), 0.0);
}
