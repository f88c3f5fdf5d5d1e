//! The OpenAPI document as integrators read it. poem-openapi describes what each operation
//! answers when it succeeds; what every operation can answer besides (the one JSON error shape,
//! from the token check, the body and rate limits, the policy and the workflow) is added here, in
//! one place, so a new operation documents it without its author remembering. Optional fields
//! are serialized as `null` when absent, so they are marked nullable here too, and only they.
use serde_json::{Value, json};

/// The statuses any operation can answer with the error shape, and what each means.
const ERROR_STATUSES: &[(&str, &str)] = &[
    ("400", "The request could not be read: malformed JSON, parameter or upload (`errors` names the field)."),
    ("401", "No valid bearer token."),
    ("403", "The token's user may not do this."),
    ("404", "Not found, or not visible to this user."),
    ("409", "The current state does not allow this (a workflow step, or someone else changed it first)."),
    ("413", "The request body is too large."),
    ("415", "The file type is not accepted."),
    ("422", "The input is not valid: `errors` lists each field with a code."),
    ("429", "Too many requests; try again after `Retry-After` seconds."),
    ("500", "Something went wrong on our side; nothing was changed."),
];

/// The document served at `/api/openapi.json` and in the docs UI.
pub fn document(raw: &str) -> Value {
    let mut doc: Value = serde_json::from_str(raw).unwrap_or_else(|_| json!({}));
    add_error_schema(&mut doc);
    add_error_responses(&mut doc);
    mark_optional_nullable(&mut doc);
    standard_formats(&mut doc);
    state_rules(&mut doc);
    doc
}

/// A one-line text as the services accept it (`domain::text::single_line`): something besides
/// spaces, and no control or direction characters.
const SINGLE_LINE: &str = r"^(?=.*\S)[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$";

/// The same, where blank means "none".
const SINGLE_LINE_OR_BLANK: &str = r"^[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$";

/// The rules the services enforce on input (answering 422 with the field and a code), stated
/// where poem-openapi's derive cannot say them.
fn rules() -> Vec<(&'static str, &'static str, Value)> {
    let line = |max: usize| json!({ "pattern": SINGLE_LINE, "maxLength": max });
    let kinds: Vec<&str> = crate::services::notifications::Kind::ALL.iter().map(|k| k.as_str()).collect();
    let zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    let recipients: Vec<&str> = crate::services::attention::RECIPIENT_ROLES.iter().map(|r| r.as_str()).collect();
    let roles: Vec<&str> = crate::domain::role::Role::ALL
        .iter()
        .filter(|r| !matches!(r, crate::domain::role::Role::Operator | crate::domain::role::Role::Advisor))
        .map(|r| r.as_str())
        .collect();
    vec![
        ("NewMoment", "title", line(200)),
        ("NewMoment", "message", json!({ "pattern": "\\S", "maxLength": 5000 })),
        ("NewMoment", "rule", json!({ "pattern": "\\S", "maxLength": 200 })),
        (
            "NewMoment",
            "recipients",
            json!({ "minItems": 1, "uniqueItems": true, "items": { "type": "string", "enum": recipients } }),
        ),
        ("NewInvitation", "role", json!({ "enum": roles })),
        ("NewToken", "name", line(100)),
        ("NewOrganisation", "name", line(200)),
        ("NewInvitation", "name", line(200)),
        ("NewAdvisor", "name", line(200)),
        ("NewTextEvidence", "title", line(200)),
        (
            "NewComment",
            "body",
            json!({ "pattern": "\\S", "maxLength": crate::services::assessment::MAX_COMMENT_CHARS }),
        ),
        ("Preferences", "email", json!({ "items": { "type": "string", "enum": kinds } })),
        ("ReportingLine", "department", json!({ "pattern": SINGLE_LINE_OR_BLANK, "maxLength": 100 })),
        ("AttentionSettings", "timezone", json!({ "enum": zones })),
        ("AttentionSettings", "appraisal_month", json!({ "minimum": 1, "maximum": 12 })),
        ("AttentionSettings", "manager_briefing_years", json!({ "minimum": 1, "maximum": 10 })),
    ]
}

/// Request bodies that refuse fields they do not name (`deny_unknown_fields`), so a misspelt
/// field is an error, not a silent "no change".
const CLOSED: &[&str] = &["ItemPatch"];

fn state_rules(doc: &mut Value) {
    for schema in CLOSED {
        if let Some(s) = doc.pointer_mut(&format!("/components/schemas/{schema}")).and_then(Value::as_object_mut) {
            s.insert("additionalProperties".into(), json!(false));
        }
    }
    for (schema, property, rule) in rules() {
        let at = format!("/components/schemas/{schema}/properties/{property}");
        if let (Some(target), Some(rule)) = (doc.pointer_mut(&at).and_then(Value::as_object_mut), rule.as_object()) {
            for (k, v) in rule {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

/// poem-openapi calls a calendar date `naive-date`; OpenAPI (and every client generator) calls
/// it `date`, and only then checks it.
fn standard_formats(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str) == Some("naive-date") {
                map.insert("format".into(), json!("date"));
            }
            map.values_mut().for_each(standard_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(standard_formats),
        _ => {}
    }
}

fn add_error_schema(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    if !schemas.is_object() {
        *schemas = json!({});
    }
    schemas["FieldError"] = json!({
        "type": "object",
        "description": "One input field that was refused, with a code saying why (e.g. `name_required`).",
        "required": ["field", "code"],
        "properties": { "field": { "type": "string" }, "code": { "type": "string" } }
    });
    schemas["Error"] = json!({
        "type": "object",
        "description": "Every error answer: a message a person can read, the refused fields (400, 422), and \
                        for a recognition application that cannot be made yet, what is missing.",
        "required": ["message"],
        "properties": {
            "message": { "type": "string" },
            "errors": { "type": "array", "items": { "$ref": "#/components/schemas/FieldError" } },
            "missing": { "type": "array", "items": { "type": "object" } }
        }
    });
}

fn add_error_responses(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for operations in paths.values_mut() {
        let Some(operations) = operations.as_object_mut() else { continue };
        for op in operations.values_mut() {
            // Uploads refuse fields they do not know (`deny_unknown_fields`): say so.
            if let Some(form) =
                op.pointer_mut("/requestBody/content/multipart~1form-data/schema").and_then(Value::as_object_mut)
            {
                form.insert("additionalProperties".into(), json!(false));
            }
            // A write that takes `If-Match` can find the resource changed.
            let conditional = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match" && p["in"] == "header"));
            let responses = &mut op["responses"];
            if !responses.is_object() {
                *responses = json!({});
            }
            if conditional && responses.get("412").is_none() {
                responses["412"] = json!({
                    "description": "The resource changed since it was read: `If-Match` no longer names its `ETag`. \
                        Read it again, then write.",
                    "content": { "application/json; charset=utf-8": {
                        "schema": { "$ref": "#/components/schemas/Error" } } }
                });
            }
            for (status, description) in ERROR_STATUSES {
                if responses.get(*status).is_none() {
                    responses[*status] = json!({
                        "description": description,
                        "content": { "application/json; charset=utf-8": {
                            "schema": { "$ref": "#/components/schemas/Error" } } }
                    });
                }
            }
        }
    }
}

fn mark_optional_nullable(doc: &mut Value) {
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else { return };
    for schema in schemas.values_mut() {
        let required: Vec<String> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(|v| v.as_str().map(String::from)).collect())
            .unwrap_or_default();
        // `get_mut`, not `[..]`: indexing would add `"properties": null` to enum schemas.
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else { continue };
        for (name, property) in properties.iter_mut() {
            if required.contains(name) {
                continue;
            }
            // A bare reference cannot carry siblings in OpenAPI 3.0: wrap it.
            if let Some(reference) = property.get("$ref").cloned() {
                *property = json!({ "allOf": [{ "$ref": reference }] });
            }
            property["nullable"] = json!(true);
        }
    }
}

/// The methods the document has for a path (`/items/5` matches `/items/{id}`), for `Allow`.
pub fn allowed_methods(doc: &Value, path: &str) -> Vec<String> {
    let want: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let Some(paths) = doc["paths"].as_object() else { return vec![] };
    for (template, operations) in paths {
        let have: Vec<&str> = template.split('/').collect();
        let matches = have.len() == want.len()
            && have.iter().zip(&want).all(|(h, w)| (h.starts_with('{') && !w.is_empty()) || h == w);
        if matches {
            let mut methods: Vec<String> =
                operations.as_object().map(|o| o.keys().map(|m| m.to_uppercase()).collect()).unwrap_or_default();
            methods.sort();
            return methods;
        }
    }
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = r##"{
        "openapi": "3.0.0",
        "paths": { "/items/{id}": { "get": { "responses": { "200": { "description": "ok" } } },
                                    "patch": { "responses": { "200": { "description": "ok" } } } } },
        "components": { "schemas": { "Status": { "type": "string", "enum": ["open", "accepted"] }, "Item": { "type": "object", "required": ["id"],
            "properties": { "id": { "type": "integer" }, "owner": { "$ref": "#/components/schemas/UserRef" },
                            "due_date": { "type": "string", "format": "naive-date" } } } } }
    }"##;

    #[test]
    fn every_operation_documents_the_error_statuses_with_the_error_schema() {
        let doc = document(RAW);
        for method in ["get", "patch"] {
            let responses = &doc["paths"]["/items/{id}"][method]["responses"];
            for status in ["200", "400", "401", "403", "404", "409", "422", "429", "500"] {
                assert!(responses.get(status).is_some(), "{method} {status}");
            }
            assert_eq!(
                responses["422"]["content"]["application/json; charset=utf-8"]["schema"]["$ref"],
                "#/components/schemas/Error"
            );
        }
    }

    #[test]
    fn only_optional_fields_are_nullable_and_references_are_wrapped() {
        let doc = document(RAW);
        assert!(doc["components"]["schemas"]["Status"].get("properties").is_none(), "enums stay enums");
        let props = &doc["components"]["schemas"]["Item"]["properties"];
        assert!(props["id"].get("nullable").is_none());
        assert_eq!(props["due_date"]["nullable"], true);
        assert_eq!(props["due_date"]["format"], "date");
        assert_eq!(props["owner"], json!({ "allOf": [{ "$ref": "#/components/schemas/UserRef" }], "nullable": true }));
    }

    #[test]
    fn the_single_line_pattern_says_what_the_services_accept() {
        let accepts = |s: &str| crate::domain::text::single_line(s, 200).is_some();
        for s in ["Laptop", "  Jan  ", "Zoë"] {
            assert!(accepts(s), "{s:?}");
        }
        for s in ["", "   ", "a\u{0}b", "x\u{202e}y"] {
            assert!(!accepts(s), "{s:?}");
        }
        assert!(SINGLE_LINE.contains("\\u202a-\\u202e") && SINGLE_LINE.starts_with("^(?=.*\\S)"));
    }

    #[test]
    fn allowed_methods_match_templated_paths() {
        let doc = document(RAW);
        assert_eq!(allowed_methods(&doc, "/items/5"), vec!["GET", "PATCH"]);
        assert!(allowed_methods(&doc, "/items").is_empty());
        assert!(allowed_methods(&doc, "/items/5/x").is_empty());
    }
}
