//! The reference product's expression language, as its flows use it: text with `{...}` expressions in it (a
//! template), or a bare expression. Parsed once ([`Expression::parse`]: errors give the character position),
//! evaluated per message against a [`Scope`] (`#message`, `#subscription`, `#api`, `#context`), bounded and without
//! panics: nesting is limited at parse, `#jsonPath` reads bounded content, `matches` uses a linear-time engine.
//!
//! As in the reference, only `{` followed by `#`, `(` or `T` opens an expression; other text is literal. A template
//! that is one expression yields its value (a boolean, a number, a list...); text around expressions yields a string.
#![warn(missing_docs)]

mod eval;
mod json_path;
mod lexer;
mod parser;
mod value;

use std::fmt;

pub use json_path::MAX_CONTENT_BYTES;
pub use value::{Map, Value};

/// Why a text is not an expression: what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The character where the trouble is, from 1.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        Self { position: offset + 1, message: message.into() }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "at character {}: {}", self.position, self.message)
    }
}

impl std::error::Error for ParseError {}

/// The variables an expression may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variable {
    /// `#message`: `id`, `content`, `contentLength`, `headers`, `attributes`, `metadata`, `error`.
    Message,
    /// `#subscription`: `id`, `type`, `metadata`, `applicationName`, `clientId`.
    Subscription,
    /// `#api`: `id`, `name`, `version`, `properties`.
    Api,
    /// `#context`: `attributes` (`api`, `plan`, `application`, ...).
    Context,
}

impl Variable {
    /// Every variable's name, for errors.
    pub const NAMES: &'static str = "#message, #subscription, #api, #context";

    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "message" => Self::Message,
            "subscription" => Self::Subscription,
            "api" => Self::Api,
            "context" => Self::Context,
            _ => return None,
        })
    }

    /// The fields it has.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Self::Message => &["id", "content", "contentLength", "headers", "attributes", "metadata", "error"],
            Self::Subscription => &["id", "type", "metadata", "applicationName", "clientId"],
            Self::Api => &["id", "name", "version", "properties"],
            Self::Context => &["attributes"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Subscription => "subscription",
            Self::Api => "api",
            Self::Context => "context",
        }
    }

    fn check_field(self, field: &str) -> Result<(), String> {
        if self.fields().contains(&field) {
            Ok(())
        } else {
            Err(format!("`#{}` has no `{field}`; it has: {}", self.name(), self.fields().join(", ")))
        }
    }

    fn describe(self, field: Option<&str>) -> String {
        match field {
            Some(field) => format!("`#{}.{field}`", self.name()),
            None => format!("`#{}`", self.name()),
        }
    }
}

/// What the variables hold when an expression is evaluated.
pub trait Scope {
    /// `#variable.field`, or `#variable` itself when `field` is `None`; `None` when the scope lacks it (no
    /// message yet), which makes the evaluation an error.
    fn lookup(&self, variable: Variable, field: Option<&str>) -> Option<Value>;
}

/// A parsed template or bare expression.
#[derive(Debug, Clone)]
pub struct Expression {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Code(parser::Expr),
}

impl Expression {
    /// Parses `text`: literal text with `{#...}`, `{(...)}` expressions in it.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let chars: Vec<char> = text.chars().collect();
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut index = 0;
        while index < chars.len() {
            if chars[index] == '{' && opens_expression(&chars[index + 1..]) {
                let close = closing_brace(&chars, index)?;
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                let inside: String = chars[index + 1..close].iter().collect();
                let tokens = lexer::tokens(&inside, index + 1)?;
                parts.push(Part::Code(parser::parse(tokens, close)?));
                index = close + 1;
            } else {
                literal.push(chars[index]);
                index += 1;
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Self { parts })
    }

    /// Whether it has no expression in it (plain text).
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|part| matches!(part, Part::Text(_)))
    }

    /// Its value in `scope`: the one expression's value, or the text with each expression's rendered in it (null
    /// renders as nothing). An error says what went wrong.
    pub fn evaluate(&self, scope: &dyn Scope) -> Result<Value, String> {
        match self.parts.as_slice() {
            [] => Ok(Value::Str(String::new())),
            [Part::Code(expr)] => eval::evaluate(expr, scope),
            [Part::Text(text)] => Ok(Value::Str(text.clone())),
            parts => {
                let mut text = String::new();
                for part in parts {
                    match part {
                        Part::Text(literal) => text.push_str(literal),
                        Part::Code(expr) => match eval::evaluate(expr, scope)? {
                            Value::Null => {}
                            value => text.push_str(&value.render()),
                        },
                    }
                }
                Ok(Value::Str(text))
            }
        }
    }
}

/// Whether the text after a `{` opens an expression: `#`, `(` or `T` after optional spaces.
fn opens_expression(rest: &[char]) -> bool {
    rest.iter().find(|c| **c != ' ').is_some_and(|c| matches!(c, '#' | '(' | 'T'))
}

/// The index of the `}` closing the `{` at `open`, past nested braces and quoted strings.
fn closing_brace(chars: &[char], open: usize) -> Result<usize, ParseError> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (index, c) in chars.iter().enumerate().skip(open) {
        match (quote, c) {
            (Some(q), c) if *c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(*c),
            (None, '{') => depth += 1,
            (None, '}') => {
                depth -= 1;
                if depth == 0 {
                    return Ok(index);
                }
            }
            _ => {}
        }
    }
    Err(ParseError::new(open, "`{` is not closed by `}`"))
}

#[cfg(test)]
mod tests;
