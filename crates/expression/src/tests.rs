use super::*;

/// A message with a JSON body and an `x-type: order` header; a subscription with `feature: a`.
struct Fixture {
    content: String,
    with_message: bool,
}

impl Scope for Fixture {
    fn lookup(&self, variable: Variable, field: Option<&str>) -> Option<Value> {
        match (variable, field) {
            (Variable::Message, _) if !self.with_message => None,
            (Variable::Message, Some("content")) => Some(Value::Str(self.content.clone())),
            (Variable::Message, Some("headers")) => {
                let mut headers = Map::case_insensitive();
                headers.push("X-Type", Value::Str("order".into()));
                Some(Value::Map(headers))
            }
            (Variable::Subscription, Some("metadata")) => {
                Some(Value::Map([("feature".to_string(), Value::Str("a".into()))].into_iter().collect()))
            }
            (Variable::Subscription, Some("id")) => Some(Value::Str("sub-1".into())),
            _ => Some(Value::Null),
        }
    }
}

fn eval(text: &str, content: &str) -> Result<Value, String> {
    let expression = Expression::parse(text).map_err(|error| error.to_string())?;
    expression.evaluate(&Fixture { content: content.to_string(), with_message: true })
}

#[test]
fn a_template_of_one_expression_yields_its_value() {
    let filter = "{#jsonPath(#message.content, '$.feature') == #subscription.metadata.feature}";
    assert_eq!(eval(filter, r#"{"feature":"a"}"#), Ok(Value::Bool(true)));
    assert_eq!(eval(filter, r#"{"feature":"b"}"#), Ok(Value::Bool(false)));
    assert!(eval(filter, "not json").is_err());
}

#[test]
fn text_around_expressions_makes_a_string() {
    assert_eq!(eval("id-{#subscription.id}-{#message.headers['x-type']}", ""), Ok(Value::Str("id-sub-1-order".into())));
    assert_eq!(eval("plain {text} here", ""), Ok(Value::Str("plain {text} here".into())));
    assert_eq!(
        eval("{\"PARTNER\".equals(#subscription.id)}", ""),
        Ok(Value::Str("{\"PARTNER\".equals(#subscription.id)}".into()))
    );
}

#[test]
fn headers_are_lists_of_values() {
    assert_eq!(eval("{#message.headers['X-TYPE'][0] == 'order'}", ""), Ok(Value::Bool(true)));
    assert_eq!(eval("{#message.headers['x-type'] == 'order'}", ""), Ok(Value::Bool(false)));
    assert_eq!(eval("{#message.headers.getFirst('x-type')}", ""), Ok(Value::Str("order".into())));
    assert_eq!(eval("{#message.headers.containsKey('x-type')}", ""), Ok(Value::Bool(true)));
    assert!(eval("{#message.headers['absent'][0] == 'order'}", "").is_err());
}

#[test]
fn operators_and_typing_follow_spel() {
    assert_eq!(eval("{(1 == '1')}", ""), Ok(Value::Bool(false)));
    assert_eq!(eval("{(\"\" + 42).equals('42')}", ""), Ok(Value::Bool(true)));
    assert_eq!(eval("{(2 > 1 and not (1 >= 2) || false)}", ""), Ok(Value::Bool(true)));
    assert_eq!(eval("{#subscription.metadata.missing ?: 'fallback'}", ""), Ok(Value::Str("fallback".into())));
    assert_eq!(eval("{#subscription.id == 'sub-1' ? 'yes' : 'no'}", ""), Ok(Value::Str("yes".into())));
    assert_eq!(eval("{#subscription.id matches 'sub-[0-9]+'}", ""), Ok(Value::Bool(true)));
    assert_eq!(
        eval("{#subscription.id.startsWith('sub') && #subscription.id.length() == 5}", ""),
        Ok(Value::Bool(true))
    );
    assert_eq!(eval("{#subscription.metadata['feature'] + 1}", ""), Ok(Value::Str("a1".into())));
}

#[test]
fn and_or_short_circuit_so_a_guarded_path_is_never_read() {
    let filter = r#"{(#jsonPath(#message.content, "$.account") != null && #jsonPath(#message.content, "$.account.product") == 'remember') || (#jsonPath(#message.content, "$.contact") != null && #jsonPath(#message.content, "$.contact.id") > 1)}"#;
    assert_eq!(eval(filter, r#"{"account":{"product":"remember"}}"#), Ok(Value::Bool(true)));
    assert_eq!(eval(filter, r#"{"card":{"number":"1"}}"#), Ok(Value::Bool(false)));
    assert_eq!(eval(filter, r#"{"contact":{"id":6789}}"#), Ok(Value::Bool(true)));
}

#[test]
fn errors_name_the_position() {
    let error = Expression::parse("{#message.content == }").unwrap_err();
    assert_eq!(error.position, 22, "{error}");
    let error = Expression::parse("{#request.headers}").unwrap_err();
    assert_eq!((error.position, error.message.starts_with("unknown variable `#request`")), (2, true), "{error}");
    let error = Expression::parse("{#message.body}").unwrap_err();
    assert_eq!(error.position, 11, "{error}");
    let error = Expression::parse("{#jsonPath(#message.content, '$..x')}").unwrap_err();
    assert_eq!(error.position, 30, "{error}");
    assert!(Expression::parse("{#message.content").is_err());
    assert!(Expression::parse("{#message.content.foo(1)}").is_err());
    assert!(Expression::parse("{T(java.lang.Integer).parseInt('1')}").is_err());
}

#[test]
fn a_message_absent_from_the_scope_is_an_error() {
    let expression = Expression::parse("{#message.content}").unwrap();
    assert!(expression.evaluate(&Fixture { content: String::new(), with_message: false }).is_err());
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{{{}1{}}}", "(".repeat(200), ")".repeat(200));
    assert!(Expression::parse(&deep).unwrap_err().message.contains("nested deeper"));
    let negations = format!("{{({}true)}}", "!".repeat(500));
    assert!(Expression::parse(&negations).is_err());
}

#[test]
fn length_is_bounded() {
    let chain = format!("{{(1{})}}", " + 1".repeat(600));
    assert!(Expression::parse(&chain).unwrap_err().message.contains("longer than"));
}
