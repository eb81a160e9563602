//! Evaluating a tree against a [`Scope`]. Every error is a value (`Err`), never a panic; recursion follows the tree,
//! whose depth the parser bounds.

use std::cmp::Ordering;

use crate::json_path::JsonPath;
use crate::parser::{compile, Comparison, Expr, Method, Operator, PathArg, PatternArg};
use crate::value::Value;
use crate::Scope;

/// The value of `expr` in `scope`.
pub(crate) fn evaluate(expr: &Expr, scope: &dyn Scope) -> Result<Value, String> {
    match expr {
        Expr::Literal(value) => Ok(value.clone()),
        Expr::Variable(variable, field) => scope
            .lookup(*variable, field.as_deref())
            .ok_or_else(|| format!("{} is not available here", variable.describe(field.as_deref()))),
        Expr::JsonPath(target, path) => {
            let content = evaluate(target, scope)?;
            match path {
                PathArg::Parsed(path) => path.read(&content),
                PathArg::Computed(path) => match evaluate(path, scope)? {
                    Value::Str(text) => JsonPath::parse(&text)?.read(&content),
                    other => Err(format!("a JSON path is a string, not {}", other.type_name())),
                },
            }
        }
        Expr::Property { target, name, safe } => match evaluate(target, scope)? {
            Value::Null if *safe => Ok(Value::Null),
            Value::Map(map) => Ok(map.get(name).cloned().unwrap_or(Value::Null)),
            other => Err(format!("property `{name}` cannot be read from {}", other.type_name())),
        },
        Expr::Index { target, index } => index_of(evaluate(target, scope)?, evaluate(index, scope)?),
        Expr::Call { target, method, arg, safe } => {
            let target = evaluate(target, scope)?;
            if *safe && target == Value::Null {
                return Ok(Value::Null);
            }
            let arg = arg.as_deref().map(|arg| evaluate(arg, scope)).transpose()?;
            call(target, *method, arg)
        }
        Expr::Not(operand) => Ok(Value::Bool(!boolean(evaluate(operand, scope)?)?)),
        Expr::Negate(operand) => match evaluate(operand, scope)? {
            Value::Int(value) => value.checked_neg().map(Value::Int).ok_or_else(|| "integer overflow".to_string()),
            Value::Float(value) => Ok(Value::Float(-value)),
            other => Err(format!("{} cannot be negated", other.type_name())),
        },
        Expr::And(left, right) => {
            Ok(Value::Bool(boolean(evaluate(left, scope)?)? && boolean(evaluate(right, scope)?)?))
        }
        Expr::Or(left, right) => Ok(Value::Bool(boolean(evaluate(left, scope)?)? || boolean(evaluate(right, scope)?)?)),
        Expr::Compare(left, comparison, right) => {
            compare(&evaluate(left, scope)?, *comparison, &evaluate(right, scope)?).map(Value::Bool)
        }
        Expr::Arithmetic(left, operator, right) => {
            arithmetic(evaluate(left, scope)?, *operator, evaluate(right, scope)?)
        }
        Expr::Matches(target, pattern) => {
            let Value::Str(text) = evaluate(target, scope)? else {
                return Err("`matches` needs a string on its left".to_string());
            };
            let matched = match pattern {
                PatternArg::Compiled(regex) => regex.is_match(&text),
                PatternArg::Computed(pattern) => match evaluate(pattern, scope)? {
                    Value::Str(pattern) => compile(&pattern)?.is_match(&text),
                    other => return Err(format!("a pattern is a string, not {}", other.type_name())),
                },
            };
            Ok(Value::Bool(matched))
        }
        Expr::Ternary(condition, then, otherwise) => {
            if boolean(evaluate(condition, scope)?)? {
                evaluate(then, scope)
            } else {
                evaluate(otherwise, scope)
            }
        }
        Expr::Elvis(value, fallback) => match evaluate(value, scope)? {
            Value::Null => evaluate(fallback, scope),
            value => Ok(value),
        },
    }
}

fn boolean(value: Value) -> Result<bool, String> {
    match value {
        Value::Bool(value) => Ok(value),
        other => Err(format!("{} is not a boolean", other.type_name())),
    }
}

fn index_of(target: Value, index: Value) -> Result<Value, String> {
    match (target, index) {
        (Value::Map(map), Value::Str(name)) => Ok(map.get(&name).cloned().unwrap_or(Value::Null)),
        (Value::List(items), Value::Int(index)) => usize::try_from(index)
            .ok()
            .and_then(|index| items.get(index).cloned())
            .ok_or_else(|| format!("index {index} is out of the list's bounds ({} items)", items.len())),
        (Value::Str(text), Value::Int(index)) => usize::try_from(index)
            .ok()
            .and_then(|index| text.chars().nth(index))
            .map(|c| Value::Str(c.to_string()))
            .ok_or_else(|| format!("index {index} is out of the string's bounds")),
        (Value::Null, _) => Err("null cannot be indexed".to_string()),
        (target, index) => Err(format!("{} cannot be indexed by {}", target.type_name(), index.type_name())),
    }
}

fn compare(left: &Value, comparison: Comparison, right: &Value) -> Result<bool, String> {
    Ok(match comparison {
        Comparison::Equal => left.equals(right),
        Comparison::NotEqual => !left.equals(right),
        Comparison::Less => left.compare(right)? == Ordering::Less,
        Comparison::LessOrEqual => left.compare(right)? != Ordering::Greater,
        Comparison::Greater => left.compare(right)? == Ordering::Greater,
        Comparison::GreaterOrEqual => left.compare(right)? != Ordering::Less,
    })
}

fn arithmetic(left: Value, operator: Operator, right: Value) -> Result<Value, String> {
    if operator == Operator::Add && (matches!(left, Value::Str(_)) || matches!(right, Value::Str(_))) {
        return Ok(Value::Str(left.render() + &right.render()));
    }
    let overflow = || "integer overflow".to_string();
    match (&left, &right) {
        (Value::Int(a), Value::Int(b)) => match operator {
            Operator::Add => a.checked_add(*b).map(Value::Int).ok_or_else(overflow),
            Operator::Subtract => a.checked_sub(*b).map(Value::Int).ok_or_else(overflow),
            Operator::Multiply => a.checked_mul(*b).map(Value::Int).ok_or_else(overflow),
            Operator::Divide => a.checked_div(*b).map(Value::Int).ok_or_else(|| "division by zero".to_string()),
            Operator::Remainder => a.checked_rem(*b).map(Value::Int).ok_or_else(|| "division by zero".to_string()),
        },
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let (a, b) = (left.number(), right.number());
            Ok(Value::Float(match operator {
                Operator::Add => a + b,
                Operator::Subtract => a - b,
                Operator::Multiply => a * b,
                Operator::Divide => a / b,
                Operator::Remainder => a % b,
            }))
        }
        _ => Err(format!("{:?} cannot be applied to {} and {}", operator, left.type_name(), right.type_name())),
    }
}

/// Calls `method` on `target`.
fn call(target: Value, method: Method, arg: Option<Value>) -> Result<Value, String> {
    let text_arg = |arg: Option<Value>| match arg {
        Some(Value::Str(text)) => Ok(text),
        Some(other) => Err(format!("{method:?} needs a string argument, not {}", other.type_name())),
        None => Err(format!("{method:?} needs an argument")),
    };
    let result = match (method, &target) {
        (Method::Equals, _) => Value::Bool(arg.is_some_and(|arg| target.equals(&arg) && same_kind(&target, &arg))),
        (Method::Contains, Value::Str(text)) => Value::Bool(text.contains(text_arg(arg)?.as_str())),
        (Method::Contains, Value::List(items)) => {
            let arg = arg.unwrap_or(Value::Null);
            Value::Bool(items.iter().any(|item| item.equals(&arg)))
        }
        (Method::Contains | Method::ContainsKey, Value::Map(map)) => Value::Bool(map.get(&text_arg(arg)?).is_some()),
        (Method::StartsWith, Value::Str(text)) => Value::Bool(text.starts_with(text_arg(arg)?.as_str())),
        (Method::EndsWith, Value::Str(text)) => Value::Bool(text.ends_with(text_arg(arg)?.as_str())),
        (Method::Length, Value::Str(text)) => Value::Int(text.chars().count() as i64),
        (Method::Size, Value::List(items)) => Value::Int(items.len() as i64),
        (Method::Size, Value::Map(map)) => Value::Int(map.len() as i64),
        (Method::IsEmpty, Value::Str(text)) => Value::Bool(text.is_empty()),
        (Method::IsEmpty, Value::List(items)) => Value::Bool(items.is_empty()),
        (Method::IsEmpty, Value::Map(map)) => Value::Bool(map.is_empty()),
        (Method::GetFirst, Value::Map(map)) => match map.get(&text_arg(arg)?) {
            Some(Value::List(values)) => values.first().cloned().unwrap_or(Value::Null),
            Some(value) => value.clone(),
            None => Value::Null,
        },
        (Method::Get, Value::Map(map)) => map.get(&text_arg(arg)?).cloned().unwrap_or(Value::Null),
        (Method::Get, Value::List(_)) => index_of(target, arg.unwrap_or(Value::Null))?,
        (Method::ToUpperCase, Value::Str(text)) => Value::Str(text.to_uppercase()),
        (Method::ToLowerCase, Value::Str(text)) => Value::Str(text.to_lowercase()),
        (Method::Trim, Value::Str(text)) => Value::Str(text.trim().to_string()),
        (Method::Matches, Value::Str(text)) => Value::Bool(compile(&text_arg(arg)?)?.is_match(text)),
        (method, target) => return Err(format!("{method:?} cannot be called on {}", target.type_name())),
    };
    Ok(result)
}

/// Java's `equals` also wants the same class: an `Integer` never equals a `Double`.
fn same_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}
