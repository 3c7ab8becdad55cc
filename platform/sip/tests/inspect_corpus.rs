//! The `sip_message` fuzz target's function, [`inspect`], run on stable Rust: over every corpus
//! file (the fuzzer's seeds) with what each must yield, and over a bounded, fixed-seed stream of
//! mutated and random inputs that must never panic or break the extractors' invariants. The
//! real fuzzer (fuzz/README.md) explores far more; this keeps the seeds and the function honest
//! on every `cargo test`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use hotline_sip::message::{
    inspect, inspect_arrived, InspectedRequest, Malformation, ParseError, MAX_MESSAGE_BYTES,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn read_dir(dir: PathBuf) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sip"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

fn corpus() -> BTreeMap<String, Vec<u8>> {
    read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"))
}

/// The fuzz target's invariants (fuzz/fuzz_targets/sip_message.rs checks the same).
fn assert_invariants(label: &str, seen: &InspectedRequest) {
    if seen.missing_header.is_some() {
        assert!(seen.malformation.is_some(), "{label}: {seen:?}");
    }
    assert!(
        seen.max_forwards.is_none_or(|hops| hops <= 255),
        "{label}: {seen:?}"
    );
    assert!(!seen.method.is_empty(), "{label}: {seen:?}");
}

#[test]
fn the_fuzz_seeds_are_the_corpus() {
    let seeds =
        read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/sip_message"));
    let corpus = corpus();
    assert_eq!(
        seeds.keys().collect::<Vec<_>>(),
        corpus.keys().collect::<Vec<_>>(),
        "copy tests/corpus/*.sip to fuzz/seeds/sip_message/"
    );
    for (name, bytes) in &corpus {
        assert!(
            seeds[name] == *bytes,
            "fuzz seed {name} differs from the corpus"
        );
    }
}

#[test]
fn every_corpus_file_inspects_as_expected() {
    let corpus = corpus();
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    for (name, bytes) in &corpus {
        if let Ok(seen) = inspect(bytes) {
            assert_invariants(name, &seen);
        }
        if let Ok(seen) = inspect_arrived(bytes, peer) {
            assert_invariants(name, &seen);
            if name == "via-unbalanced-quote.sip" {
                // rsipstack stamps it, then cannot read its own Via back (see the README).
                assert_eq!(seen.source, None);
            } else {
                assert_eq!(seen.source, Some(peer), "{name}");
            }
        }
    }
    let inspected =
        |name: &str| inspect(&corpus[name]).unwrap_or_else(|error| panic!("{name}: {error}"));

    for name in [
        "garbage-ascii.sip",
        "binary-noise.sip",
        "not-sip-http-request.sip",
        "truncated-start-line.sip",
        "truncated-mid-headers.sip",
        "unknown-method.sip",
    ] {
        assert!(
            matches!(inspect(&corpus[name]), Err(ParseError::Unparseable(_))),
            "{name}: {:?}",
            inspect(&corpus[name])
        );
    }
    assert_eq!(
        inspect(&corpus["stray-response.sip"]),
        Err(ParseError::NotARequest)
    );
    assert!(matches!(
        inspect_arrived(&corpus["missing-via.sip"], peer),
        Err(ParseError::NoVia(_))
    ));

    let malformation = |name: &str| inspected(name).malformation;
    assert_eq!(
        malformation("sip-version-3.sip"),
        Some(Malformation::Version("SIP/3.0".into()))
    );
    assert_eq!(
        malformation("cseq-method-mismatch.sip"),
        Some(Malformation::CSeq)
    );
    assert_eq!(
        malformation("cseq-not-a-number.sip"),
        Some(Malformation::CSeq)
    );
    for name in [
        "content-length-negative.sip",
        "content-length-overflow.sip",
        "content-length-larger-than-body.sip",
    ] {
        assert_eq!(
            malformation(name),
            Some(Malformation::ContentLength),
            "{name}"
        );
    }
    for (name, header) in [
        ("missing-from.sip", "From"),
        ("missing-to.sip", "To"),
        ("header-without-colon.sip", "To"),
        ("missing-call-id.sip", "Call-ID"),
        ("missing-cseq.sip", "CSeq"),
    ] {
        assert_eq!(
            malformation(name),
            Some(Malformation::MissingHeader(header)),
            "{name}"
        );
    }
    assert!(matches!(
        malformation("oversized-140k.sip"),
        Some(Malformation::TooLarge(size)) if size > MAX_MESSAGE_BYTES
    ));
    assert_eq!(
        inspected("max-forwards-out-of-range.sip").max_forwards,
        None
    );
    assert_eq!(inspected("max-forwards-absurd.sip").max_forwards, None);
    assert_eq!(inspected("max-forwards-zero.sip").max_forwards, Some(0));

    for name in [
        "options.sip",
        "compact-headers-invite.sip",
        "ipv6-request-uri-and-via.sip",
        "folded-headers.sip",
        "tel-request-uri.sip",
        "mixed-case-header-names.sip",
        "extra-whitespace.sip",
        "sips-uri.sip",
        "params-without-value.sip",
        "multiple-via-one-line.sip",
        "register-several-contacts.sip",
        "content-length-smaller-than-body.sip",
        "header-without-colon-optional.sip",
        "invalid-utf8-late-header.sip",
    ] {
        assert_eq!(malformation(name), None, "{name}");
    }
    let compact = inspected("compact-headers-invite.sip");
    assert_eq!(compact.dialed.as_deref(), Some("+421233000222"));
    assert_eq!(compact.caller, "+421900222333");
    assert!(compact.sdp.is_some());
    let ipv6 = inspected("ipv6-request-uri-and-via.sip");
    assert_eq!(ipv6.dialed.as_deref(), Some("+421233000333"));
    assert_eq!(ipv6.source, Some("[2001:db8::1]:5060".parse().unwrap()));
    let folded = inspected("folded-headers.sip");
    assert_eq!(folded.caller_name.as_deref(), Some("Folded Caller"));
    assert_eq!(folded.dialed.as_deref(), Some("+421233000666"));
    let tel = inspected("tel-request-uri.sip");
    assert_eq!(tel.dialed.as_deref(), Some("+421233000444"));
    let multi = inspected("multiple-via-one-line.sip");
    assert_eq!(multi.source, Some("192.0.2.1:5060".parse().unwrap()));
    assert_eq!(multi.via_transport, "UDP");
    // rsipstack keeps no body without Content-Length (see the corpus README).
    assert_eq!(inspected("invite-udp-no-content-length.sip").sdp, None);
}

/// Byte strings that tend to matter to a SIP parser.
const TOKENS: &[&[u8]] = &[
    b":",
    b"\r\n",
    b"\r\n ",
    b"\r\n\r\n",
    b"\0",
    b";",
    b",",
    b"@",
    b"[",
    b"]",
    b"[::1]",
    b"%",
    b"%2",
    b"%zz",
    b"<",
    b">",
    b"\"",
    b"\\",
    b"\xff\xfe",
    b" ",
    b"\t",
    b"sip:",
    b"sips:",
    b"tel:",
    b"=",
    b";rport",
    b";received=",
    b"v: ",
    b"l: 99999999999999999999",
    b"SIP/2.0/UDP ",
    b"-1",
    b"4294967296",
];

fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let at = rng.gen_range(0..=bytes.len());
        match rng.gen_range(0..5) {
            0 if at < bytes.len() => bytes[at] = rng.gen(),
            1 => {
                let token = TOKENS[rng.gen_range(0..TOKENS.len())];
                bytes.splice(at..at, token.iter().copied());
            }
            2 => {
                let end = (at + rng.gen_range(0..32)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => {
                let end = (at + rng.gen_range(0..64)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

#[test]
fn bounded_random_inputs_never_break_the_extractors() {
    const MUTATIONS: usize = 20_000;
    const RANDOM: usize = 2_000;
    let seeds: Vec<Vec<u8>> = corpus()
        .into_values()
        .filter(|bytes| bytes.len() < 4_096)
        .collect();
    let peers: [SocketAddr; 2] = [
        "203.0.113.5:40000".parse().unwrap(),
        "[2001:db8::7]:41000".parse().unwrap(),
    ];
    let mut rng = StdRng::seed_from_u64(3261);
    let mut parsed = 0;
    for round in 0..MUTATIONS + RANDOM {
        let input = if round < MUTATIONS {
            let seed = &seeds[rng.gen_range(0..seeds.len())];
            mutate(&mut rng, seed)
        } else {
            (0..rng.gen_range(0..600)).map(|_| rng.gen()).collect()
        };
        let label = format!("round {round}: {:?}", String::from_utf8_lossy(&input));
        if let Ok(seen) = inspect(&input) {
            parsed += 1;
            assert_invariants(&label, &seen);
        }
        let peer = peers[round % peers.len()];
        if let Ok(seen) = inspect_arrived(&input, peer) {
            assert_invariants(&label, &seen);
            // Never an address the sender claims; unreadable (None, answered 400) is allowed.
            assert!(
                seen.source.is_none() || seen.source == Some(peer),
                "{label}"
            );
        }
    }
    // Mutations must mostly still parse, or the loop would only ever test the parser's refusals.
    assert!(
        parsed > MUTATIONS / 4,
        "only {parsed} of {MUTATIONS} mutated inputs parsed"
    );
    println!(
        "{parsed} of {} inputs parsed as requests",
        MUTATIONS + RANDOM
    );
}
