//! IVR plugins on live calls, end to end: the language-menu example (built from its Rust source
//! by `plugins/build.sh`) is uploaded to the platform's catalog over the API, two tenants pin
//! it on their hotlines, and SIPp callers work through it with RFC 4733 digits played from the
//! captures Debian's sip-tester ships. SIPp phones registered as the tenants' agents take the
//! calls the plugin hands to a queue.
//!
//! - acme has every prompt the menu plays: 1 (Russian) then 2 (support) reaches the agent in
//!   the support queue who speaks Russian, and the call record carries the plugin's outcome,
//!   its variables, the queue visit and the agent.
//! - bravo pinned the same catalog plugin but uploaded none of its prompts: the plugin fails
//!   on its first prompt, the call goes to bravo's fallback queue (never a dead line), and
//!   bravo's plugin log says why; acme's log shows nothing of bravo's call.
//! - an acme caller who hangs up in the menu leaves a record that says so, with no queue visit.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use support::hotline::{
    all_ok, check_record, sipp_available, Agent, Check, Expect, Hotline, Tenant,
};
use support::{audio::write_tone, free_udp_tcp_port};

const PLUGIN: &str = "language-menu";
/// What the menu plays, with the length of the tone uploaded for each (seconds): short, so the
/// caller's digits (1.5 s and 3 s after the answer) come while a menu waits for them.
const PROMPTS: &[(&str, f64)] = &[
    ("welcome", 0.3),
    ("language-menu", 1.0),
    ("sorry", 0.3),
    ("invalid-choice", 0.3),
    ("department-menu-ru", 1.0),
    ("department-menu-en", 1.0),
    ("queue-closed-ru", 0.3),
    ("queue-closed-en", 0.3),
];

/// The Rust build of the language-menu example.
fn menu_component() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/plugins")
        .join(format!("{PLUGIN}-rust.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): plugins/build.sh builds it (scripts/test.sh runs it)",
            path.display()
        )
    })
}

/// Upload the menu to the platform's catalog; its version number.
async fn upload_to_catalog(hotline: &Hotline) -> u64 {
    let info = hotline
        .api
        .send_bytes(
            reqwest::Method::POST,
            &format!("/api/v1/plugins/{PLUGIN}/versions?notes=live%20IVR%20test"),
            "application/wasm",
            menu_component(),
        )
        .await;
    info["version"]
        .as_u64()
        .unwrap_or_else(|| panic!("no version in {info}"))
}

/// The menu's prompts for `tenant`, each a tone of its own length.
async fn upload_prompts(hotline: &Hotline, tenant: &Tenant, dir: &std::path::Path) {
    for (at, (name, seconds)) in PROMPTS.iter().enumerate() {
        let id = hotline
            .api
            .create(
                &format!("/api/v1/tenants/{}/prompts", tenant.id),
                json!({ "name": name, "language": "en" }),
            )
            .await;
        let wav = dir.join(format!("{name}.wav"));
        write_tone(&wav, 400.0 + 100.0 * at as f64, *seconds);
        let audio = std::fs::read(&wav).expect("read the tone");
        hotline
            .api
            .send_bytes(
                reqwest::Method::PUT,
                &format!("/api/v1/tenants/{}/prompts/{id}/audio", tenant.id),
                "audio/wav",
                audio,
            )
            .await;
    }
}

/// An agent of `tenant` with `skills`, a member of each of `queues`.
async fn member(
    hotline: &Hotline,
    tenant: &Tenant,
    username: &str,
    skills: &[&str],
    queues: &[&str],
) -> Agent {
    let password = format!("{username}-sip-secret");
    let skills: Vec<Value> = skills
        .iter()
        .map(|skill| json!({ "name": skill, "level": 5 }))
        .collect();
    let id = hotline
        .api
        .create(
            &format!("/api/v1/tenants/{}/agents", tenant.id),
            json!({ "name": username, "sip_username": username, "sip_password": password, "skills": skills }),
        )
        .await;
    for queue in queues {
        hotline
            .api
            .put(
                &format!("/api/v1/tenants/{}/queues/{queue}/members/{id}", tenant.id),
                json!({ "penalty": 0 }),
            )
            .await;
    }
    Agent {
        id,
        username: username.into(),
        password,
        domain: tenant.domain.clone(),
    }
}

async fn queue(hotline: &Hotline, tenant: &Tenant, name: &str) -> String {
    hotline
        .api
        .create(
            &format!("/api/v1/tenants/{}/queues", tenant.id),
            json!({ "name": name, "max_wait_secs": 20 }),
        )
        .await
}

/// A hotline at `number` running the catalog's menu, `fallback` behind it.
async fn menu_hotline(
    hotline: &Hotline,
    tenant: &Tenant,
    number: &str,
    version: u64,
    fallback: &str,
) {
    hotline
        .number_with(
            tenant,
            number,
            json!({ "action": "ivr" }),
            json!({
                "ivr_plugin": { "plugin": PLUGIN, "version": version },
                "fallback_queue_id": fallback,
            }),
        )
        .await;
}

/// The lines of `tenant`'s plugin log about one call.
async fn plugin_log(hotline: &Hotline, tenant: &Tenant, call_id: &Value) -> Vec<Value> {
    let call_id = call_id.as_str().unwrap_or_default();
    let page = hotline
        .api
        .get(&format!(
            "/api/v1/tenants/{}/plugins/log?call_id={call_id}",
            tenant.id
        ))
        .await;
    page["items"].as_array().cloned().unwrap_or_default()
}

/// A caller through the trunk playing RFC 4733 digits 1 then 2, staying `stay` after them.
fn menu_caller(
    hotline: &Hotline,
    label: &str,
    number: &str,
    stay: Duration,
) -> support::sipp::Sipp {
    hotline
        .carrier(label, "carrier_ivr.xml", number)
        .pause(stay)
        .arg("-mi")
        .arg("127.0.0.1")
        .arg("-mp")
        .arg(&free_udp_tcp_port("127.0.0.1").to_string())
        .timeout(Duration::from_secs(40))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_menu_runs_on_live_calls() {
    if !sipp_available("the_language_menu_runs_on_live_calls") {
        return;
    }
    let pcaps = std::path::Path::new("/usr/share/sip-tester/dtmf_2833_1.pcap");
    assert!(
        pcaps.exists(),
        "{} is missing: scripts/test.sh installs Debian's sip-tester",
        pcaps.display()
    );
    let hotline = Hotline::start("").await;
    let version = upload_to_catalog(&hotline).await;
    let acme = hotline.tenant("acme", 20).await;
    let bravo = hotline.tenant("bravo", 20).await;
    hotline.trunk(free_udp_tcp_port("127.0.0.1")).await;
    let tones = tempfile::tempdir().expect("tone directory");
    upload_prompts(&hotline, &acme, tones.path()).await;

    // acme: the menu's two queues; only olga speaks Russian in support.
    let sales = queue(&hotline, &acme, "sales").await;
    let support_queue = queue(&hotline, &acme, "support").await;
    let general = queue(&hotline, &acme, "general").await;
    let olga = member(&hotline, &acme, "olga", &["ru"], &[&sales, &support_queue]).await;
    let (menu_number, hang_up_number) = ("+421255570101", "+421255570102");
    menu_hotline(&hotline, &acme, menu_number, version, &general).await;
    menu_hotline(&hotline, &acme, hang_up_number, version, &general).await;

    // bravo: the same catalog plugin, none of its prompts, a fallback queue with petr in it.
    let bravo_fallback = queue(&hotline, &bravo, "front-desk").await;
    let petr = member(&hotline, &bravo, "petr", &[], &[&bravo_fallback]).await;
    let broken_number = "+421255570201";
    menu_hotline(&hotline, &bravo, broken_number, version, &bravo_fallback).await;
    hotline.wait_for_trunks("+421255570999").await;

    let h = &hotline;
    let (acme_ref, bravo_ref) = (&acme, &bravo);
    let (olga, petr) = (&olga, &petr);
    let support_queue = support_queue.as_str();
    let bravo_fallback = bravo_fallback.as_str();

    let menu: Check = Box::pin(async move {
        let phone = h.phone("olga", olga, "phone_answer.xml", 1, false).await?;
        let caller = h
            .run(menu_caller(
                h,
                "menu-caller",
                menu_number,
                Duration::from_secs(5),
            ))
            .await;
        let phone = phone.finish().await;
        all_ok(&[&caller, &phone])?;
        let records = h.records(acme_ref, menu_number, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/ivr/outcome", json!({ "outcome": "operator" })),
                Expect::Is("/vars/language", json!("ru")),
                Expect::Is("/vars/department", json!("support")),
                Expect::Is("/queues/0/queue_id", json!(support_queue)),
                Expect::Is("/queues/0/exit", json!({ "exit": "answered" })),
                Expect::Is("/agent_id", json!(olga.id)),
                Expect::Is("/hangup_by", json!("caller")),
                Expect::Is("/end_cause", json!({ "cause": "completed" })),
            ],
        )?;
        let call_id = records[0]["call_id"].clone();
        let log = plugin_log(h, acme_ref, &call_id).await;
        let chose = log
            .iter()
            .any(|line| line["message"] == "caller chose ru/support");
        if !chose {
            return Err(format!(
                "acme's plugin log lacks the menu's choice for call {call_id}: {log:#?}"
            ));
        }
        Ok(())
    });

    let broken: Check = Box::pin(async move {
        let phone = h.phone("petr", petr, "phone_answer.xml", 1, false).await?;
        let caller = h
            .run(
                h.carrier("broken-caller", "carrier_call.xml", broken_number)
                    .pause(Duration::from_secs(4))
                    .timeout(Duration::from_secs(30)),
            )
            .await;
        let phone = phone.finish().await;
        all_ok(&[&caller, &phone])?;
        let records = h.records(bravo_ref, broken_number, 1).await?;
        let record = &records[0];
        check_record(
            record,
            &[
                Expect::Is("/ivr/outcome/outcome", json!("failed")),
                Expect::Is("/queues/0/queue_id", json!(bravo_fallback)),
                Expect::Is("/queues/0/exit", json!({ "exit": "answered" })),
                Expect::Is("/agent_id", json!(petr.id)),
            ],
        )?;
        let reason = record["ivr"]["outcome"]["reason"].as_str().unwrap_or("");
        if !reason.contains("welcome") {
            return Err(format!(
                "the failure's reason should name the missing prompt: {reason:?}"
            ));
        }
        let call_id = record["call_id"].clone();
        let log = plugin_log(h, bravo_ref, &call_id).await;
        let explained = log
            .iter()
            .any(|line| line["message"].as_str().unwrap_or("").contains("welcome"));
        if !explained {
            return Err(format!(
                "bravo's plugin log does not say why call {call_id} failed: {log:#?}"
            ));
        }
        let leaked = plugin_log(h, acme_ref, &call_id).await;
        if !leaked.is_empty() {
            return Err(format!("acme's plugin log shows bravo's call: {leaked:#?}"));
        }
        Ok(())
    });

    let hang_up: Check = Box::pin(async move {
        let caller = h
            .run(
                h.carrier("hang-up-caller", "carrier_call.xml", hang_up_number)
                    .pause(Duration::from_millis(1_500))
                    .timeout(Duration::from_secs(20)),
            )
            .await;
        all_ok(&[&caller])?;
        let records = h.records(acme_ref, hang_up_number, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/ivr/outcome", json!({ "outcome": "caller_hung_up" })),
                Expect::Is("/queues", json!([])),
                Expect::Unset("/agent_id"),
                Expect::Is("/hangup_by", json!("caller")),
            ],
        )
    });

    hotline
        .expect_all(vec![
            ("Russian support through the menu", menu),
            ("a plugin without its prompts falls back", broken),
            ("a caller hangs up in the menu", hang_up),
        ])
        .await;
}
