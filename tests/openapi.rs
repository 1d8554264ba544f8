//! The API's published contract: an OpenAPI 3.1 document generated from the routes themselves,
//! listing exactly the routes the README documents, each with its errors and security.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

/// `METHOD /path` for every operation in the document (paths without the `/api/v1` prefix).
fn operations(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "delete"] {
            if item.get(method).is_some() {
                let path = path.strip_prefix("/api/v1").unwrap_or(path);
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

/// Every `METHOD /path` written in the README's API table.
fn readme_operations() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let table = readme
        .split("### JSON API")
        .nth(1)
        .and_then(|rest| rest.split("\n### ").next())
        .expect("the README's JSON API section");
    let mut out = BTreeSet::new();
    for cell in table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(1))
    {
        for code in cell.split('`').skip(1).step_by(2) {
            let Some((method, path)) = code.split_once(' ') else {
                continue;
            };
            if ["GET", "POST", "PUT", "DELETE"].contains(&method) {
                out.insert(format!("{method} {}", path.split('?').next().unwrap_or(path)));
            }
        }
    }
    out
}

/// Every `$ref` in the document points at a schema it defines.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap_or_default().to_string());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

both_backends! {
    #[tokio::test]
    async fn the_document_lists_every_route_the_readme_lists_with_errors_and_security() {
        let app = spawn().await;
        let res = app.get("/openapi.json", None).await;
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let doc = expect(res, StatusCode::OK).await;
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "localoffer");
        let documented = operations(&doc);
        let readme = readme_operations();
        assert!(readme.len() >= 35, "{readme:?}");
        assert_eq!(
            documented.difference(&readme).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "in the document but not the README"
        );
        assert_eq!(
            readme.difference(&documented).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "in the README but not the document"
        );
        let mut all = Vec::new();
        refs(&doc, &mut all);
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for r in &all {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("a local ref: {r}"));
            assert!(schemas.contains_key(name), "{r} is not defined");
        }
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                for status in ["400", "401", "403", "404", "422", "500", "503"] {
                    let error = &responses[status]["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(error, "#/components/schemas/ErrorEnvelope", "{method} {path} {status}");
                }
                assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} has a success answer");
            }
        }
        // Routes behind a login say so; the public ones do not demand it.
        assert_eq!(doc["paths"]["/api/v1/bookings"]["post"]["security"][0]["bearer"], serde_json::json!([]));
        // Search takes an optional token (a council's families search its own Local Offer).
        let search = &doc["paths"]["/api/v1/search"]["get"];
        assert!(
            search.get("security").is_none_or(|s| s.as_array().unwrap().contains(&serde_json::json!({}))),
            "{search}"
        );
        // A money field is a string, never a number.
        assert_eq!(schemas["Pence"]["type"], "string");
        let booking = &doc["paths"]["/api/v1/bookings"]["post"];
        assert_eq!(booking["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/NewBooking");
        assert!(booking["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
    }

    #[tokio::test]
    async fn answers_match_their_documented_shapes() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let doc = expect(app.get("/openapi.json", None).await, StatusCode::OK).await;
        let schemas = &doc["components"]["schemas"];
        // The booking answer carries every property its schema requires, and nothing else.
        let booked = expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 2).await, StatusCode::CREATED).await;
        // Its schema: the booking's own properties (by reference) and what creation adds.
        let mut required = BTreeSet::new();
        for part in schemas["CreatedBooking"]["allOf"].as_array().expect("allOf") {
            let part = match part["$ref"].as_str() {
                Some(r) => &schemas[r.trim_start_matches("#/components/schemas/")],
                None => part,
            };
            for key in part["required"].as_array().expect("required") {
                required.insert(key.as_str().unwrap().to_string());
            }
        }
        assert!(required.contains("remaining") && required.contains("total"), "{required:?}");
        for key in &required {
            assert!(booked.get(key).is_some(), "{key} is missing from {booked}");
        }
        assert!(booked["created_at"].as_str().unwrap().ends_with('Z'), "instants are UTC: {booked}");
    }
}
