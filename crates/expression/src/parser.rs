//! Parsing one expression into a tree, with SpEL's precedence (lowest first): ternary and Elvis, `or`, `and`,
//! comparisons and `matches`, `+ -`, `* / %`, unary `! not -`, then access (`.name`, `?.name`, `[index]`,
//! `.method(...)`). Nesting and length are bounded ([`MAX_DEPTH`], [`MAX_TOKENS`]), so no input drives recursion
//! deep, here or where the tree is evaluated.

use regex_lite::Regex;

use crate::json_path::JsonPath;
use crate::lexer::{Located, Token};
use crate::value::Value;
use crate::{ParseError, Variable};

/// Deepest nesting of an expression.
pub(crate) const MAX_DEPTH: usize = 48;
/// Most tokens in one expression (a chain such as `a + b + ...` makes a tree as deep as it is long).
pub(crate) const MAX_TOKENS: usize = 512;
/// Largest compiled regular expression (`matches`), in bytes.
pub(crate) const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// An expression tree.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Literal(Value),
    /// `#variable` or `#variable.field`.
    Variable(Variable, Option<String>),
    /// `#jsonPath(target, 'path')`: the path parsed when it is a literal.
    JsonPath(Box<Expr>, PathArg),
    Property {
        target: Box<Expr>,
        name: String,
        safe: bool,
    },
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
    Call {
        target: Box<Expr>,
        method: Method,
        /// Every method takes at most one argument.
        arg: Option<Box<Expr>>,
        safe: bool,
    },
    Not(Box<Expr>),
    Negate(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Comparison, Box<Expr>),
    Arithmetic(Box<Expr>, Operator, Box<Expr>),
    Matches(Box<Expr>, PatternArg),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    Elvis(Box<Expr>, Box<Expr>),
}

/// A `#jsonPath` path: parsed at once when written literally, else at evaluation.
#[derive(Debug, Clone)]
pub(crate) enum PathArg {
    Parsed(JsonPath),
    Computed(Box<Expr>),
}

/// A `matches` pattern: compiled at once when written literally, else at evaluation.
#[derive(Debug, Clone)]
pub(crate) enum PatternArg {
    Compiled(Regex),
    Computed(Box<Expr>),
}

/// `== != < <= > >=`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// `+ - * / %`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Operator {
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
}

/// The methods the reference's documented expressions call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Method {
    Equals,
    Contains,
    ContainsKey,
    StartsWith,
    EndsWith,
    Length,
    Size,
    IsEmpty,
    GetFirst,
    Get,
    ToUpperCase,
    ToLowerCase,
    Trim,
    Matches,
}

impl Method {
    /// The method named `name`, with how many arguments it takes.
    fn named(name: &str) -> Option<(Self, usize)> {
        Some(match name {
            "equals" => (Self::Equals, 1),
            "contains" => (Self::Contains, 1),
            "containsKey" => (Self::ContainsKey, 1),
            "startsWith" => (Self::StartsWith, 1),
            "endsWith" => (Self::EndsWith, 1),
            "length" => (Self::Length, 0),
            "size" => (Self::Size, 0),
            "isEmpty" => (Self::IsEmpty, 0),
            "getFirst" => (Self::GetFirst, 1),
            "get" => (Self::Get, 1),
            "toUpperCase" => (Self::ToUpperCase, 0),
            "toLowerCase" => (Self::ToLowerCase, 0),
            "trim" => (Self::Trim, 0),
            "matches" => (Self::Matches, 1),
            _ => return None,
        })
    }
}

/// Methods offered, for errors.
const METHODS: &str = "equals, contains, containsKey, startsWith, endsWith, length, size, isEmpty, getFirst, get, \
                       toUpperCase, toLowerCase, trim, matches";

/// Parses the tokens of one expression that ends at `end` (a character offset, for errors).
pub(crate) fn parse(tokens: Vec<Located>, end: usize) -> Result<Expr, ParseError> {
    let mut parser = Parser { tokens, next: 0, end, depth: 0 };
    if parser.tokens.is_empty() {
        return Err(ParseError::new(end, "an expression is empty"));
    }
    if let Some(past) = parser.tokens.get(MAX_TOKENS) {
        return Err(ParseError::new(past.at, format!("an expression is longer than {MAX_TOKENS} tokens")));
    }
    let expr = parser.expression()?;
    match parser.tokens.get(parser.next) {
        None => Ok(expr),
        Some(extra) => Err(ParseError::new(extra.at, format!("unexpected {}", describe(&extra.token)))),
    }
}

struct Parser {
    tokens: Vec<Located>,
    next: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|located| &located.token)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |located| located.at)
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol);
        if found {
            self.next += 1;
        }
        found
    }

    /// Takes the keyword `word` (any case).
    fn eat_word(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Name(name)) if name.eq_ignore_ascii_case(word));
        if found {
            self.next += 1;
        }
        found
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), ParseError> {
        if self.eat_symbol(symbol) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{symbol}`")))
        }
    }

    fn unexpected(&self, wanted: &str) -> ParseError {
        let found = self.peek().map_or_else(|| "the end".to_string(), describe);
        ParseError::new(self.at(), format!("expected {wanted}, found {found}"))
    }

    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> Result<T, ParseError>) -> Result<T, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::new(self.at(), format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    fn expression(&mut self) -> Result<Expr, ParseError> {
        self.nested(|parser| {
            let condition = parser.or()?;
            if parser.eat_symbol("?:") {
                let fallback = parser.expression()?;
                return Ok(Expr::Elvis(Box::new(condition), Box::new(fallback)));
            }
            if parser.eat_symbol("?") {
                let then = parser.expression()?;
                parser.expect_symbol(":")?;
                let otherwise = parser.expression()?;
                return Ok(Expr::Ternary(Box::new(condition), Box::new(then), Box::new(otherwise)));
            }
            Ok(condition)
        })
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.eat_symbol("||") || self.eat_word("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.comparison()?;
        while self.eat_symbol("&&") || self.eat_word("and") {
            left = Expr::And(Box::new(left), Box::new(self.comparison()?));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let left = self.additive()?;
        if self.eat_word("matches") {
            let at = self.at();
            let pattern = self.additive()?;
            let pattern = match pattern {
                Expr::Literal(Value::Str(text)) => {
                    PatternArg::Compiled(compile(&text).map_err(|e| ParseError::new(at, e))?)
                }
                other => PatternArg::Computed(Box::new(other)),
            };
            return Ok(Expr::Matches(Box::new(left), pattern));
        }
        let comparison = [
            ("==", "eq", Comparison::Equal),
            ("!=", "ne", Comparison::NotEqual),
            ("<=", "le", Comparison::LessOrEqual),
            (">=", "ge", Comparison::GreaterOrEqual),
            ("<", "lt", Comparison::Less),
            (">", "gt", Comparison::Greater),
        ]
        .into_iter()
        .find(|(symbol, word, _)| self.eat_symbol(symbol) || self.eat_word(word));
        match comparison {
            Some((_, _, comparison)) => Ok(Expr::Compare(Box::new(left), comparison, Box::new(self.additive()?))),
            None => Ok(left),
        }
    }

    fn additive(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.multiplicative()?;
        loop {
            let operator = if self.eat_symbol("+") {
                Operator::Add
            } else if self.eat_symbol("-") {
                Operator::Subtract
            } else {
                return Ok(left);
            };
            left = Expr::Arithmetic(Box::new(left), operator, Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            let operator = if self.eat_symbol("*") {
                Operator::Multiply
            } else if self.eat_symbol("/") {
                Operator::Divide
            } else if self.eat_symbol("%") {
                Operator::Remainder
            } else {
                return Ok(left);
            };
            left = Expr::Arithmetic(Box::new(left), operator, Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat_symbol("!") || self.eat_word("not") {
            return self.nested(|parser| Ok(Expr::Not(Box::new(parser.unary()?))));
        }
        if self.eat_symbol("-") {
            return self.nested(|parser| Ok(Expr::Negate(Box::new(parser.unary()?))));
        }
        self.access()
    }

    fn access(&mut self) -> Result<Expr, ParseError> {
        let mut target = self.primary()?;
        loop {
            let safe = if self.eat_symbol("?.") {
                true
            } else if self.eat_symbol(".") {
                false
            } else if self.eat_symbol("[") {
                let index = self.expression()?;
                self.expect_symbol("]")?;
                target = Expr::Index { target: Box::new(target), index: Box::new(index) };
                continue;
            } else {
                return Ok(target);
            };
            let at = self.at();
            let Some(Token::Name(name)) = self.peek().cloned() else {
                return Err(self.unexpected("a property or method name"));
            };
            self.next += 1;
            if self.eat_symbol("(") {
                let (method, arity) = Method::named(&name)
                    .ok_or_else(|| ParseError::new(at, format!("unknown method `{name}`; methods: {METHODS}")))?;
                let mut args = self.arguments()?;
                if args.len() != arity {
                    return Err(ParseError::new(
                        at,
                        format!("`{name}` takes {arity} argument(s), given {}", args.len()),
                    ));
                }
                let arg = args.pop().map(Box::new);
                target = Expr::Call { target: Box::new(target), method, arg, safe };
            } else {
                target = match target {
                    Expr::Variable(variable, None) if !safe => {
                        variable.check_field(&name).map_err(|message| ParseError::new(at, message))?;
                        Expr::Variable(variable, Some(name))
                    }
                    other => Expr::Property { target: Box::new(other), name, safe },
                };
            }
        }
    }

    /// Arguments after `(`, up to and with `)`.
    fn arguments(&mut self) -> Result<Vec<Expr>, ParseError> {
        let mut args = Vec::new();
        if self.eat_symbol(")") {
            return Ok(args);
        }
        loop {
            args.push(self.expression()?);
            if self.eat_symbol(")") {
                return Ok(args);
            }
            self.expect_symbol(",")?;
        }
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let at = self.at();
        let Some(token) = self.peek().cloned() else {
            return Err(self.unexpected("a value"));
        };
        self.next += 1;
        match token {
            Token::Str(text) => Ok(Expr::Literal(Value::Str(text))),
            Token::Int(value) => Ok(Expr::Literal(Value::Int(value))),
            Token::Float(value) => Ok(Expr::Literal(Value::Float(value))),
            Token::Symbol("(") => {
                let inner = self.expression()?;
                self.expect_symbol(")")?;
                Ok(inner)
            }
            Token::Hash(name) if self.eat_symbol("(") => self.function(&name, at),
            Token::Hash(name) => {
                let variable = Variable::named(&name).ok_or_else(|| {
                    ParseError::new(at, format!("unknown variable `#{name}`; variables: {}", Variable::NAMES))
                })?;
                Ok(Expr::Variable(variable, None))
            }
            Token::Name(name) => match name.to_ascii_lowercase().as_str() {
                "true" => Ok(Expr::Literal(Value::Bool(true))),
                "false" => Ok(Expr::Literal(Value::Bool(false))),
                "null" => Ok(Expr::Literal(Value::Null)),
                _ if name == "T" && self.eat_symbol("(") => {
                    Err(ParseError::new(at, "type references `T(...)` are not supported"))
                }
                _ => Err(ParseError::new(at, format!("unknown name `{name}` (variables start with `#`)"))),
            },
            other => Err(ParseError::new(at, format!("unexpected {}", describe(&other)))),
        }
    }

    /// `#name(` seen: the function's arguments.
    fn function(&mut self, name: &str, at: usize) -> Result<Expr, ParseError> {
        if name != "jsonPath" {
            return Err(ParseError::new(at, format!("unknown function `#{name}`; functions: #jsonPath")));
        }
        let content = self.expression()?;
        self.expect_symbol(",")?;
        let path_at = self.at();
        let path = self.expression()?;
        self.expect_symbol(")")?;
        let path = match path {
            Expr::Literal(Value::Str(text)) => {
                PathArg::Parsed(JsonPath::parse(&text).map_err(|message| ParseError::new(path_at, message))?)
            }
            other => PathArg::Computed(Box::new(other)),
        };
        Ok(Expr::JsonPath(Box::new(content), path))
    }
}

/// Compiles a `matches` pattern: the whole text must match, as Java's `String.matches`.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    regex_lite::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|error| format!("not a regular expression: {error}"))
}

fn describe(token: &Token) -> String {
    match token {
        Token::Name(name) => format!("`{name}`"),
        Token::Hash(name) => format!("`#{name}`"),
        Token::Str(text) => format!("the string '{text}'"),
        Token::Int(value) => format!("the number {value}"),
        Token::Float(value) => format!("the number {value}"),
        Token::Symbol(symbol) => format!("`{symbol}`"),
    }
}
