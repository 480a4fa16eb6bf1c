//! The API's contract: the OpenAPI document describes what the server answers (401 on
//! every authenticated operation, the 400s, 404s and 414 it gives, the `conversion` of a
//! field change), `/activities?limit=` is held to its documented range, a request line
//! too long for the server still gets the JSON error body, and the pages' icon is there.

use kartoteka_tests::*;
use reqwest::Method;

async fn document(app: &TestApp) -> Value {
    let doc = app.send(Method::GET, None, "/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    doc.json()
}

fn error_body(response: &Value) -> bool {
    response["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"
}

both!(the_document_describes_every_answer: the_document_describes_every_answer_sqlite, the_document_describes_every_answer_postgres);
async fn the_document_describes_every_answer(app: TestApp) {
    let doc = document(&app).await;
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            operations += 1;
            for status in ["400", "401", "414"] {
                assert!(
                    responses.get(status).is_some_and(error_body),
                    "{method} {path} documents {status} with the error body: {responses:?}"
                );
            }
        }
    }
    assert!(operations > 30, "{operations}");
    // Signing in needs no token.
    assert_eq!(paths["/api/v1/auth/token"]["post"]["security"], json!([{}]));
    for (path, method, status) in [
        ("/api/v1/contacts/{id}", "delete", "400"),
        ("/api/v1/fields/{key}", "delete", "400"),
        ("/api/v1/contact-types/{key}", "delete", "400"),
        ("/api/v1/auth/token", "post", "400"),
        ("/api/v1/auth/token", "post", "429"),
        ("/api/v1/activities", "get", "404"),
        ("/api/v1/fields/{key}", "patch", "404"),
    ] {
        let response = &paths[path][method]["responses"][status];
        assert!(error_body(response), "{method} {path} documents {status}: {response}");
        assert!(
            response["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{method} {path} {status} says when"
        );
    }
    // A field change answers the field and its `conversion`.
    let changed = &paths["/api/v1/fields/{key}"]["patch"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(changed["$ref"], "#/components/schemas/FieldUpdated");
    let schemas = &doc["components"]["schemas"];
    let updated = &schemas["FieldUpdated"]["properties"];
    for property in ["key", "label", "kind", "options", "applies_to", "conversion"] {
        assert!(updated[property].is_object(), "{property} in {updated}");
    }
    let conversion = &schemas["ConversionOut"]["properties"];
    for property in ["checked", "converted", "dropped", "failed"] {
        assert!(conversion[property].is_object(), "{property} in {conversion}");
    }
    // `limit` says its range.
    let params = paths["/api/v1/activities"]["get"]["parameters"].as_array().unwrap();
    let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(
        (limit["schema"]["minimum"].as_f64(), limit["schema"]["maximum"].as_f64()),
        (Some(1.0), Some(500.0)),
        "{limit}"
    );
}

both!(activities_limit_is_held_to_its_range: activities_limit_is_held_to_its_range_sqlite, activities_limit_is_held_to_its_range_postgres);
async fn activities_limit_is_held_to_its_range(app: TestApp) {
    let (_, token) = app.admin().await;
    let (status, contact) = app
        .post_json(&token, "/api/v1/contacts", &json!({"type": "client", "name": "Ada"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{contact}");
    let id = contact["id"].as_i64().unwrap();
    for limit in ["0", "501", "100000"] {
        let reply = app
            .get(&token, &format!("/api/v1/activities?contact_id={id}&limit={limit}"))
            .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid");
        assert_eq!(reply.1["error"]["path"], "limit", "{}", reply.1);
        assert!(
            reply.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("between 1 and 500"),
            "{}",
            reply.1
        );
    }
    for limit in ["1", "500"] {
        let reply = app
            .get(&token, &format!("/api/v1/activities?contact_id={id}&limit={limit}"))
            .await;
        assert_eq!(reply.0, StatusCode::OK, "limit={limit}: {}", reply.1);
    }
    let missing = app.get(&token, "/api/v1/activities?contact_id=999999").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
}

/// Sends `GET target` over a plain connection (an HTTP client refuses such a URL) and
/// returns the status line, the headers (lower-cased) and the body.
async fn raw_get(app: &TestApp, target: &str) -> (String, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
        app.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_owned(), headers.to_ascii_lowercase(), body.to_owned())
}

both!(a_too_long_request_line_answers_json: a_too_long_request_line_answers_json_sqlite, a_too_long_request_line_answers_json_postgres);
async fn a_too_long_request_line_answers_json(app: TestApp) {
    let (_, token) = app.admin().await;
    let long = "a".repeat(70 * 1024);
    for path in ["/api/v1/contacts", "/contacts"] {
        let (status, headers, body) = raw_get(&app, &format!("{path}?q={long}")).await;
        assert_eq!(status, "HTTP/1.1 414 URI Too Long", "{path}");
        assert!(headers.contains("content-type: application/json"), "{path}: {headers}");
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: JSON, got {body:?}"));
        assert_eq!(body["error"]["code"], "uri_too_long", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("too long")),
            "{body}"
        );
    }
    // A request line hyper can't parse gets the error body too.
    let (status, headers, body) = raw_get(&app, "/api/v1/contacts bad").await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert!(headers.contains("content-type: application/json"), "{headers}");
    assert!(body.contains("\"code\":\"invalid\""), "{body}");
    // Normal answers pass unchanged, and the server goes on answering.
    let (status, _, body) = raw_get(&app, "/healthz").await;
    assert_eq!((status.as_str(), body.as_str()), ("HTTP/1.1 200 OK", "ok"));
    assert_eq!(app.get(&token, "/api/v1/contacts").await.0, StatusCode::OK);
}

both!(pages_have_an_icon: pages_have_an_icon_sqlite, pages_have_an_icon_postgres);
async fn pages_have_an_icon(app: TestApp) {
    let login = app.send(Method::GET, None, "/login", None).await;
    assert!(
        login
            .text
            .contains("<link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\">"),
        "{}",
        login.text
    );
    for path in ["/assets/favicon.svg", "/favicon.ico"] {
        let icon = app.send(Method::GET, None, path, None).await;
        assert_eq!(icon.status, StatusCode::OK, "{path}");
        assert_eq!(icon.header("content-type").as_deref(), Some("image/svg+xml"), "{path}");
        assert!(icon.text.starts_with("<svg"), "{path}: {}", icon.text);
    }
}
