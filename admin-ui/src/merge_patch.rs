//! JSON Merge Patch (RFC 7396): how every PATCH of the API applies a partial document to the
//! resource's writable fields. `null` removes (resets to the default), objects merge, anything
//! else replaces. The merged document then goes through the same strict deserialization and
//! validation as a create, so a patch can never smuggle in a field a create would refuse.

use serde_json::Value;

pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                apply(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::apply;
    use serde_json::json;

    #[test]
    fn rfc7396_examples() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        apply(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));

        let mut doc = json!({"a": ["b"]});
        apply(&mut doc, &json!({"a": "c"}));
        assert_eq!(doc, json!({"a": "c"}));

        let mut doc = json!({"a": "foo"});
        apply(&mut doc, &json!({"b": {"c": null}}));
        assert_eq!(doc, json!({"a": "foo", "b": {}}));
    }
}
