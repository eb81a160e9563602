//! Walking a JSON document along a field pattern: keys from the root, `*` for every element of an array or value
//! of an object.

use serde_json::Value;

/// One step of a concrete path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// An object's key.
    Key(String),
    /// An array's index.
    Index(usize),
}

/// Calls `visit` with the concrete path and the value of every field of `document` that `pattern` matches.
pub(crate) fn walk(document: &mut Value, pattern: &[impl AsRef<str>], visit: &mut dyn FnMut(&[Step], &mut Value)) {
    walk_from(document, pattern, &mut Vec::new(), visit);
}

fn walk_from(
    value: &mut Value,
    pattern: &[impl AsRef<str>],
    path: &mut Vec<Step>,
    visit: &mut dyn FnMut(&[Step], &mut Value),
) {
    let Some((first, rest)) = pattern.split_first() else {
        visit(path, value);
        return;
    };
    match (value, first.as_ref()) {
        (Value::Array(items), "*") => {
            for (index, item) in items.iter_mut().enumerate() {
                path.push(Step::Index(index));
                walk_from(item, rest, path, visit);
                path.pop();
            }
        }
        (Value::Object(fields), "*") => {
            for (key, item) in fields.iter_mut() {
                path.push(Step::Key(key.clone()));
                walk_from(item, rest, path, visit);
                path.pop();
            }
        }
        (Value::Object(fields), key) => {
            if let Some(item) = fields.get_mut(key) {
                path.push(Step::Key(key.to_string()));
                walk_from(item, rest, path, visit);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The value at a concrete `path` of `document`.
pub(crate) fn at<'a>(document: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(document, |value, step| match step {
        Step::Key(key) => value.get(key.as_str()),
        Step::Index(index) => value.get(*index),
    })
}

/// `auth.basic.password`, `signature.secrets[1]`: the way error paths are written.
pub(crate) fn dotted(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Key(key) if text.is_empty() => text.push_str(key),
            Step::Key(key) => {
                text.push('.');
                text.push_str(key);
            }
            Step::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_star_walks_arrays_and_objects() {
        let mut document = json!({"a": [{"b": {"x": {"c": 1}, "y": {"c": 2}}}, {"b": {}}]});
        let mut seen = Vec::new();
        walk(&mut document, &["a", "*", "b", "*", "c"], &mut |path, value| seen.push((dotted(path), value.clone())));
        assert_eq!(seen, vec![("a[0].b.x.c".to_string(), json!(1)), ("a[0].b.y.c".to_string(), json!(2))]);
    }

    #[test]
    fn at_follows_a_concrete_path() {
        let document = json!({"a": [0, {"b": "here"}]});
        assert_eq!(
            at(&document, &[Step::Key("a".into()), Step::Index(1), Step::Key("b".into())]),
            Some(&json!("here"))
        );
        assert_eq!(at(&document, &[Step::Key("z".into())]), None);
    }
}
