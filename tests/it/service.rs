//! What the server offers besides the resources: health, the OpenAPI document, JSON errors
//! for unknown API routes and methods, the stylesheet, request ids.

use kartoteka_tests::*;
use reqwest::Method;

both!(health_and_openapi: health_and_openapi_sqlite, health_and_openapi_postgres);
async fn health_and_openapi(app: TestApp) {
    let health = app.send(Method::GET, None, "/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.text, "ok");
    assert!(
        health.header("x-request-id").is_some_and(|id| !id.is_empty()),
        "every answer has a request id"
    );

    // The document is public, and describes the API.
    let doc = app.send(Method::GET, None, "/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.header("content-type").unwrap().starts_with("application/json"));
    let doc = doc.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/contacts",
        "/api/v1/contacts/{id}",
        "/api/v1/contacts/{id}/activities",
        "/api/v1/activities",
        "/api/v1/fields",
        "/api/v1/fields/{key}",
        "/api/v1/contact-types",
        "/api/v1/contact-types/{key}",
        "/api/v1/auth/token",
    ] {
        assert!(paths.contains_key(path), "the document describes {path}");
    }
    let contacts = &paths["/api/v1/contacts"];
    assert!(contacts["get"].is_object() && contacts["post"].is_object());
    let one = &paths["/api/v1/contacts/{id}"];
    assert!(one["get"].is_object() && one["patch"].is_object() && one["delete"].is_object());
    assert!(doc["components"]["schemas"]["ContactOut"].is_object());
}

both!(unknown_api_routes_answer_json: unknown_api_routes_answer_json_sqlite, unknown_api_routes_answer_json_postgres);
async fn unknown_api_routes_answer_json(app: TestApp) {
    let (_, token) = app.admin().await;
    let missing = app.get(&token, "/api/v1/nothing-here").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    let wrong_method = app
        .send(Method::PUT, Some(&token), "/api/v1/contacts", Some(&json!({})))
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.json()["error"]["code"], "method_not_allowed");

    let css = app.send(Method::GET, None, "/assets/app.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));

    // A request id sent along is kept.
    let client = client_builder().build().unwrap();
    let response = client
        .get(app.url("/healthz"))
        .header("x-request-id", "test-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("x-request-id").and_then(|v| v.to_str().ok()),
        Some("test-123")
    );
}
