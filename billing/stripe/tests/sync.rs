//! The adapter against a Stripe stand-in serving the pinned API version's fixtures: the sync
//! flow, retries after failures (one object, one idempotency key), reconciliation by metadata,
//! and the total check that guards finalization.

mod support;

use std::sync::Arc;
use std::time::Duration;

use hotline_billing::gateway::{
    Amount, CollectionMethod, CreditNoteLine, CreditNoteReason, CreditNoteRequest, CurrencyCode,
    CustomerRequest, DraftInvoiceRequest, FinalizeInvoiceRequest, GatewayError, IdempotencyKey,
    InvoiceItemRequest, PaymentGateway, RemoteInvoiceStatus,
};
use hotline_billing_stripe::api_version;
use serde_json::json;
use support::*;
use uuid::Uuid;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CUSTOMER: &str = "cus_TQx7b2VwQk1Lm9";

fn eur() -> CurrencyCode {
    CurrencyCode::parse("EUR").unwrap()
}

async fn mount_create(server: &MockServer, endpoint_path: &str, endpoint: &CreateEndpoint) {
    Mock::given(method("POST"))
        .and(path(endpoint_path))
        .respond_with(endpoint.clone())
        .mount(server)
        .await;
}

async fn mount_get(server: &MockServer, endpoint_path: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(endpoint_path))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn draft_request(invoice_id: Uuid) -> DraftInvoiceRequest {
    DraftInvoiceRequest::new(
        invoice_id,
        CUSTOMER,
        eur(),
        CollectionMethod::SendInvoice { days_until_due: 14 },
    )
}

#[tokio::test]
async fn happy_path_customer_draft_items_total_check_finalize() {
    let server = MockServer::start().await;
    let customers = CreateEndpoint::new("customer", "cus");
    let invoices = CreateEndpoint::new("invoice_draft", "in");
    let items = CreateEndpoint::new("invoice_item", "ii");
    mount_get(
        &server,
        "/v1/customers/search",
        search_result("/v1/customers/search", vec![]),
    )
    .await;
    mount_create(&server, "/v1/customers", &customers).await;
    mount_create(&server, "/v1/invoices", &invoices).await;
    mount_create(&server, "/v1/invoiceitems", &items).await;
    let gateway: Arc<dyn PaymentGateway> = Arc::new(gateway(&server));

    let account_id = Uuid::now_v7();
    let customer = gateway
        .ensure_customer(&CustomerRequest::new(
            account_id,
            "Acme Insurance s.r.o.",
            Some("billing@acme-insurance.example".into()),
        ))
        .await
        .unwrap();
    assert_eq!(customer.provider_id, "cus_0001");
    assert_eq!(customer.hotline_account_id, Some(account_id));

    let invoice_id = Uuid::now_v7();
    let mut draft_request = draft_request(invoice_id);
    draft_request.provider_customer_id = customer.provider_id.clone();
    let draft = gateway.create_draft_invoice(&draft_request).await.unwrap();
    assert_eq!(draft.provider_id, "in_0001");
    assert_eq!(draft.status, RemoteInvoiceStatus::Draft);
    assert_eq!(draft.hotline_invoice_id, Some(invoice_id));

    // 990.00 EUR bundle fee + 730 overage minutes at 0.35 EUR = 255.50 EUR.
    let lines = [
        (99_000, "Inbound minutes, bundle of 3,000"),
        (25_550, "730 min over the bundle at 0.35 EUR"),
    ];
    let mut line_ids = Vec::new();
    for (minor_units, description) in lines {
        let line_id = Uuid::now_v7();
        line_ids.push(line_id);
        let item = gateway
            .add_invoice_item(&InvoiceItemRequest::new(
                line_id,
                &customer.provider_id,
                &draft.provider_id,
                Amount::new(minor_units, eur()),
                description,
            ))
            .await
            .unwrap();
        assert_eq!(item.hotline_line_id, Some(line_id));
        assert_eq!(item.amount, Amount::new(minor_units, eur()));
    }

    let mut filled = fixture("invoice_draft");
    filled["id"] = json!(draft.provider_id);
    filled["total"] = json!(124_550);
    mount_get(&server, "/v1/invoices/in_0001", filled).await;
    let mut open = fixture("invoice_open");
    open["id"] = json!(draft.provider_id);
    Mock::given(method("POST"))
        .and(path("/v1/invoices/in_0001/finalize"))
        .respond_with(ResponseTemplate::new(200).set_body_json(open))
        .mount(&server)
        .await;

    let finalized = gateway
        .finalize_invoice(&FinalizeInvoiceRequest::new(
            invoice_id,
            &draft.provider_id,
            Amount::new(124_550, eur()),
        ))
        .await
        .unwrap();
    assert_eq!(finalized.status, RemoteInvoiceStatus::Open);
    assert_eq!(finalized.total, Amount::new(124_550, eur()));
    assert_eq!(finalized.number.as_deref(), Some("7F3A2C1D-0001"));

    // What Stripe was asked, request by request.
    let customer_post = &requests_to(&server, "POST", "/v1/customers").await[0];
    assert_eq!(
        form(customer_post)["metadata[hotline_account_id]"],
        account_id.to_string()
    );
    assert_eq!(form(customer_post)["name"], "Acme Insurance s.r.o.");
    assert_eq!(
        header(customer_post, "idempotency-key").unwrap(),
        IdempotencyKey::for_customer(account_id).as_str()
    );
    assert_eq!(
        header(customer_post, "stripe-version").unwrap(),
        api_version()
    );
    assert_eq!(
        header(customer_post, "authorization").unwrap(),
        format!("Bearer {SECRET_KEY}")
    );

    let invoice_post = &requests_to(&server, "POST", "/v1/invoices").await[0];
    let sent = form(invoice_post);
    assert_eq!(sent["customer"], "cus_0001");
    assert_eq!(sent["currency"], "eur");
    assert_eq!(sent["auto_advance"], "false");
    assert_eq!(sent["collection_method"], "send_invoice");
    assert_eq!(sent["days_until_due"], "14");
    assert_eq!(sent["pending_invoice_items_behavior"], "exclude");
    assert_eq!(sent["metadata[hotline_invoice_id]"], invoice_id.to_string());
    assert_eq!(
        header(invoice_post, "idempotency-key").unwrap(),
        format!("hotline:invoice:{invoice_id}:create")
    );

    let item_posts = requests_to(&server, "POST", "/v1/invoiceitems").await;
    assert_eq!(item_posts.len(), 2);
    for ((post, (minor_units, _)), line_id) in item_posts.iter().zip(lines).zip(&line_ids) {
        let sent = form(post);
        assert_eq!(sent["amount"], minor_units.to_string());
        assert_eq!(sent["invoice"], "in_0001");
        assert_eq!(sent["metadata[hotline_line_id]"], line_id.to_string());
        assert_eq!(
            header(post, "idempotency-key").unwrap(),
            IdempotencyKey::for_invoice_item(*line_id).as_str()
        );
    }

    let finalize_post = &requests_to(&server, "POST", "/v1/invoices/in_0001/finalize").await[0];
    assert_eq!(form(finalize_post)["auto_advance"], "true");
    assert_eq!(
        header(finalize_post, "idempotency-key").unwrap(),
        IdempotencyKey::for_invoice_finalize(invoice_id).as_str()
    );
    assert_eq!(customers.created().len(), 1);
    assert_eq!(invoices.created().len(), 1);
    assert_eq!(items.created().len(), 2);
}

#[tokio::test]
async fn a_server_error_then_success_creates_one_invoice_with_one_key() {
    let server = MockServer::start().await;
    let invoices = CreateEndpoint::new("invoice_draft", "in");
    invoices.fail_next(Fault::ServerErrorBeforeExecution);
    mount_create(&server, "/v1/invoices", &invoices).await;
    let gateway = gateway(&server);
    let request = draft_request(Uuid::now_v7());

    let first = gateway.create_draft_invoice(&request).await.unwrap_err();
    assert!(first.is_retryable(), "{first:?}");
    // The outbox retries the same row: same request, same key.
    let second = gateway.create_draft_invoice(&request).await.unwrap();

    let posts = requests_to(&server, "POST", "/v1/invoices").await;
    assert_eq!(posts.len(), 2);
    let keys: Vec<_> = posts.iter().map(|p| header(p, "idempotency-key")).collect();
    assert_eq!(keys[0], Some(request.idempotency_key.as_str().to_owned()));
    assert_eq!(keys[0], keys[1]);
    let created = invoices.created();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["id"], json!(second.provider_id));
}

#[tokio::test]
async fn a_timeout_after_stripe_created_the_invoice_is_retried_with_the_same_key() {
    let server = MockServer::start().await;
    let invoices = CreateEndpoint::new("invoice_draft", "in");
    invoices.fail_next(Fault::AnswerLate(Duration::from_secs(3)));
    mount_create(&server, "/v1/invoices", &invoices).await;
    let gateway = gateway_with_timeout(&server, Duration::from_millis(300));
    let request = draft_request(Uuid::now_v7());

    let first = gateway.create_draft_invoice(&request).await.unwrap_err();
    assert!(first.is_retryable(), "{first:?}");
    assert_eq!(
        invoices.created().len(),
        1,
        "Stripe acted before the answer was lost"
    );

    let second = gateway.create_draft_invoice(&request).await.unwrap();
    let created = invoices.created();
    assert_eq!(created.len(), 1, "the retry adopted the first invoice");
    assert_eq!(created[0]["id"], json!(second.provider_id));
    let keys: Vec<_> = requests_to(&server, "POST", "/v1/invoices")
        .await
        .iter()
        .map(|p| header(p, "idempotency-key").unwrap())
        .collect();
    assert_eq!(keys, vec![request.idempotency_key.as_str().to_owned(); 2]);
}

#[tokio::test]
async fn a_spent_key_is_reconciled_then_replaced_by_the_next_generation() {
    let server = MockServer::start().await;
    let invoices = CreateEndpoint::new("invoice_draft", "in");
    invoices.fail_next(Fault::ServerErrorSaved);
    mount_create(&server, "/v1/invoices", &invoices).await;
    mount_get(&server, "/v1/invoices", list("/v1/invoices", vec![], false)).await;
    let gateway = gateway(&server);
    let invoice_id = Uuid::now_v7();
    let mut request = draft_request(invoice_id);

    let first = gateway.create_draft_invoice(&request).await.unwrap_err();
    let replayed = gateway.create_draft_invoice(&request).await.unwrap_err();
    assert!(first.is_retryable() && replayed.is_retryable());
    assert!(!first.to_string().contains("replayed"), "{first}");
    assert!(replayed.to_string().contains("replayed"), "{replayed}");

    // What the outbox does with a spent key: look for the object, and only if it is absent
    // try again under the next generation of the key.
    assert_eq!(
        gateway.find_invoice(CUSTOMER, invoice_id).await.unwrap(),
        None
    );
    request.idempotency_key = request.idempotency_key.next_generation();
    let invoice = gateway.create_draft_invoice(&request).await.unwrap();

    assert_eq!(invoices.created().len(), 1);
    assert_eq!(invoice.hotline_invoice_id, Some(invoice_id));
    let keys: Vec<_> = requests_to(&server, "POST", "/v1/invoices")
        .await
        .iter()
        .map(|p| header(p, "idempotency-key").unwrap())
        .collect();
    let spent = format!("hotline:invoice:{invoice_id}:create");
    assert_eq!(
        keys,
        vec![spent.clone(), spent.clone(), format!("{spent}#2")]
    );
}

#[tokio::test]
async fn reconciliation_finds_an_existing_invoice_by_metadata_across_pages() {
    let server = MockServer::start().await;
    let ours = Uuid::now_v7();
    let invoice = |id: &str, hotline_id: Uuid| {
        let mut invoice = fixture("invoice_open");
        invoice["id"] = json!(id);
        invoice["metadata"] = json!({ "hotline_invoice_id": hotline_id.to_string() });
        invoice
    };
    let first_page = list(
        "/v1/invoices",
        vec![
            invoice("in_0003", Uuid::now_v7()),
            invoice("in_0002", Uuid::now_v7()),
        ],
        true,
    );
    let second_page = list("/v1/invoices", vec![invoice("in_0001", ours)], false);
    Mock::given(method("GET"))
        .and(path("/v1/invoices"))
        .and(query_param("starting_after", "in_0002"))
        .respond_with(ResponseTemplate::new(200).set_body_json(second_page))
        .with_priority(1)
        .mount(&server)
        .await;
    mount_get(&server, "/v1/invoices", first_page).await;
    let gateway = gateway(&server);

    let found = gateway.find_invoice(CUSTOMER, ours).await.unwrap().unwrap();
    assert_eq!(found.provider_id, "in_0001");
    assert_eq!(found.hotline_invoice_id, Some(ours));
    assert_eq!(found.status, RemoteInvoiceStatus::Open);

    let lists = requests_to(&server, "GET", "/v1/invoices").await;
    assert_eq!(lists.len(), 2);
    assert_eq!(query(&lists[0])["customer"], CUSTOMER);
    assert_eq!(query(&lists[0])["limit"], "100");
    assert_eq!(query(&lists[1])["starting_after"], "in_0002");

    assert_eq!(
        gateway
            .find_invoice(CUSTOMER, Uuid::now_v7())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn ensure_customer_adopts_the_customer_found_by_metadata() {
    let server = MockServer::start().await;
    let account_id = Uuid::now_v7();
    let mut existing = fixture("customer");
    existing["metadata"] = json!({ "hotline_account_id": account_id.to_string() });
    mount_get(
        &server,
        "/v1/customers/search",
        search_result("/v1/customers/search", vec![existing]),
    )
    .await;
    let customers = CreateEndpoint::new("customer", "cus");
    mount_create(&server, "/v1/customers", &customers).await;
    let gateway = gateway(&server);

    let customer = gateway
        .ensure_customer(&CustomerRequest::new(
            account_id,
            "Acme Insurance s.r.o.",
            None,
        ))
        .await
        .unwrap();
    assert_eq!(customer.provider_id, CUSTOMER);
    assert_eq!(customer.hotline_account_id, Some(account_id));
    assert!(customers.created().is_empty());
    let search = &requests_to(&server, "GET", "/v1/customers/search").await[0];
    assert_eq!(
        query(search)["query"],
        format!("metadata['hotline_account_id']:'{account_id}'")
    );
}

#[tokio::test]
async fn items_already_on_a_draft_are_listed_with_our_line_ids() {
    let server = MockServer::start().await;
    let line = Uuid::now_v7();
    let mut ours = fixture("invoice_item");
    ours["metadata"] = json!({ "hotline_line_id": line.to_string() });
    let mut foreign = fixture("invoice_item");
    foreign["id"] = json!("ii_added_in_dashboard");
    foreign["metadata"] = json!({});
    mount_get(
        &server,
        "/v1/invoiceitems",
        list("/v1/invoiceitems", vec![ours, foreign], false),
    )
    .await;
    let gateway = gateway(&server);

    let items = gateway
        .invoice_items("in_1SZx9kLkdIwHu7ix0aBcDeFg")
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].hotline_line_id, Some(line));
    assert_eq!(items[0].amount, Amount::new(99_000, eur()));
    assert_eq!(items[1].hotline_line_id, None);
    let listed = &requests_to(&server, "GET", "/v1/invoiceitems").await[0];
    assert_eq!(query(listed)["invoice"], "in_1SZx9kLkdIwHu7ix0aBcDeFg");
}

#[tokio::test]
async fn a_total_mismatch_refuses_to_finalize() {
    let server = MockServer::start().await;
    let mut draft = fixture("invoice_draft");
    draft["total"] = json!(124_549);
    mount_get(&server, "/v1/invoices/in_1SZx9kLkdIwHu7ix0aBcDeFg", draft).await;
    Mock::given(method("POST"))
        .and(path("/v1/invoices/in_1SZx9kLkdIwHu7ix0aBcDeFg/finalize"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("invoice_open")))
        .mount(&server)
        .await;
    let gateway = gateway(&server);

    let err = gateway
        .finalize_invoice(&FinalizeInvoiceRequest::new(
            Uuid::now_v7(),
            "in_1SZx9kLkdIwHu7ix0aBcDeFg",
            Amount::new(124_550, eur()),
        ))
        .await
        .unwrap_err();
    match err {
        GatewayError::TotalMismatch {
            expected,
            actual,
            provider_invoice_id,
        } => {
            assert_eq!(expected, Amount::new(124_550, eur()));
            assert_eq!(actual, Amount::new(124_549, eur()));
            assert_eq!(provider_invoice_id, "in_1SZx9kLkdIwHu7ix0aBcDeFg");
        }
        other => panic!("{other:?}"),
    }
    let finalize_calls = requests_to(
        &server,
        "POST",
        "/v1/invoices/in_1SZx9kLkdIwHu7ix0aBcDeFg/finalize",
    )
    .await;
    assert!(
        finalize_calls.is_empty(),
        "nothing may be finalized on a mismatch"
    );
}

#[tokio::test]
async fn finalizing_an_invoice_stripe_already_finalized_returns_it_without_a_second_call() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        "/v1/invoices/in_1SZx9kLkdIwHu7ix0aBcDeFg",
        fixture("invoice_open"),
    )
    .await;
    let gateway = gateway(&server);

    let invoice = gateway
        .finalize_invoice(&FinalizeInvoiceRequest::new(
            Uuid::now_v7(),
            "in_1SZx9kLkdIwHu7ix0aBcDeFg",
            Amount::new(124_550, eur()),
        ))
        .await
        .unwrap();
    assert_eq!(invoice.status, RemoteInvoiceStatus::Open);
    assert!(requests_to(
        &server,
        "POST",
        "/v1/invoices/in_1SZx9kLkdIwHu7ix0aBcDeFg/finalize"
    )
    .await
    .is_empty());
}

#[tokio::test]
async fn credit_notes_are_created_with_custom_lines_and_found_again_by_metadata() {
    let server = MockServer::start().await;
    let notes = CreateEndpoint::new("credit_note", "cn");
    mount_create(&server, "/v1/credit_notes", &notes).await;
    let gateway = gateway(&server);
    let note_id = Uuid::now_v7();
    let mut request = CreditNoteRequest::new(
        note_id,
        "in_1SZx9kLkdIwHu7ix0aBcDeFg",
        vec![CreditNoteLine {
            description: "Correction: 43 minutes billed twice on 14 Oct".into(),
            amount_minor_units: 1_500,
        }],
    );
    request.reason = Some(CreditNoteReason::OrderChange);

    let note = gateway.create_credit_note(&request).await.unwrap();
    assert_eq!(note.hotline_credit_note_id, Some(note_id));
    assert_eq!(note.total, Amount::new(1_500, eur()));
    let sent = form(&requests_to(&server, "POST", "/v1/credit_notes").await[0]);
    assert_eq!(sent["invoice"], "in_1SZx9kLkdIwHu7ix0aBcDeFg");
    assert_eq!(sent["lines[0][type]"], "custom_line_item");
    assert_eq!(sent["lines[0][unit_amount]"], "1500");
    assert_eq!(sent["lines[0][quantity]"], "1");
    assert_eq!(sent["reason"], "order_change");
    assert_eq!(
        sent["metadata[hotline_credit_note_id]"],
        note_id.to_string()
    );

    mount_get(
        &server,
        "/v1/credit_notes",
        list("/v1/credit_notes", notes.created(), false),
    )
    .await;
    let found = gateway
        .find_credit_note("in_1SZx9kLkdIwHu7ix0aBcDeFg", note_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.provider_id, note.provider_id);
}

#[tokio::test]
async fn rate_limits_carry_retry_after_and_validation_errors_are_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/invoices"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3")
                .set_body_json(fixture("error_rate_limit")),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/invoiceitems"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("request-id", "req_Zq7Yw1Xv2Ut3S4")
                .set_body_json(fixture("error_invalid_request")),
        )
        .mount(&server)
        .await;
    let gateway = gateway(&server);

    let limited = gateway
        .create_draft_invoice(&draft_request(Uuid::now_v7()))
        .await
        .unwrap_err();
    assert!(limited.is_retryable());
    assert_eq!(limited.retry_after(), Some(Duration::from_secs(3)));

    let refused = gateway
        .add_invoice_item(&InvoiceItemRequest::new(
            Uuid::now_v7(),
            CUSTOMER,
            "in_1",
            Amount::new(100, eur()),
            "x",
        ))
        .await
        .unwrap_err();
    match refused {
        GatewayError::Permanent {
            status,
            code,
            message,
        } => {
            assert_eq!(status, Some(400));
            assert_eq!(code.as_deref(), Some("resource_missing"));
            assert!(message.contains("req_Zq7Yw1Xv2Ut3S4"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_stripe_is_retryable() {
    // A port nothing listens on: bind, note the address, close.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gateway = hotline_billing_stripe::StripeGateway::new(
        hotline_billing_stripe::StripeConfig::new(SECRET_KEY)
            .with_api_base(format!("http://{address}")),
    )
    .unwrap();
    let err = gateway.invoice("in_1").await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn currencies_missing_from_async_stripe_still_reach_stripe() {
    let server = MockServer::start().await;
    let items = CreateEndpoint::new("invoice_item", "ii");
    mount_create(&server, "/v1/invoiceitems", &items).await;
    let gateway = gateway(&server);
    let kwd = CurrencyCode::parse("KWD").unwrap();

    let item = gateway
        .add_invoice_item(&InvoiceItemRequest::new(
            Uuid::now_v7(),
            CUSTOMER,
            "in_1",
            Amount::new(12_345, kwd.clone()),
            "Inbound minutes",
        ))
        .await
        .unwrap();
    assert_eq!(item.amount, Amount::new(12_345, kwd));
    let sent = form(&requests_to(&server, "POST", "/v1/invoiceitems").await[0]);
    assert_eq!(sent["currency"], "kwd");
}
