//! Splitting one expression into tokens, each with its position in the whole text.

use crate::ParseError;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// A name: a property, a method, or a keyword (`and`, `or`, `not`, `matches`, `true`, `false`, `null`).
    Name(String),
    /// `#name`: a variable or a function.
    Hash(String),
    /// A quoted string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Punctuation and operators: `( ) [ ] . ?. , ? : ?: == != < <= > >= && || ! + - * / %`.
    Symbol(&'static str),
}

/// A token and where it starts (a character offset in the whole text, from 0).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located {
    pub(crate) token: Token,
    pub(crate) at: usize,
}

/// Symbols, longest first.
const SYMBOLS: [&str; 24] = [
    "?.", "?:", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", ".", ",", "?", ":", "<", ">", "!", "+", "-",
    "*", "/", "%",
];

/// The tokens of `text`, whose first character is at `offset` in the whole text.
pub(crate) fn tokens(text: &str, offset: usize) -> Result<Vec<Located>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        let at = offset + index;
        if c.is_whitespace() {
            index += 1;
            continue;
        }
        let token = if c == '\'' || c == '"' {
            let (text, next) = quoted(&chars, index, at)?;
            index = next;
            Token::Str(text)
        } else if c.is_ascii_digit() {
            let (token, next) = number(&chars, index, at)?;
            index = next;
            token
        } else if c == '#' {
            let name = name_at(&chars, index + 1);
            if name.is_empty() {
                return Err(ParseError::new(at, "`#` must be followed by a variable or function name"));
            }
            index += 1 + name.chars().count();
            Token::Hash(name)
        } else if is_name_start(c) {
            let name = name_at(&chars, index);
            index += name.chars().count();
            Token::Name(name)
        } else if let Some(symbol) = SYMBOLS.iter().find(|symbol| starts_with(&chars, index, symbol)) {
            index += symbol.len();
            Token::Symbol(symbol)
        } else {
            return Err(ParseError::new(at, format!("unexpected character `{c}`")));
        };
        tokens.push(Located { token, at });
    }
    Ok(tokens)
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn name_at(chars: &[char], start: usize) -> String {
    let first_ok = chars.get(start).is_some_and(|c| is_name_start(*c));
    if !first_ok {
        return String::new();
    }
    chars[start..].iter().take_while(|c| c.is_alphanumeric() || **c == '_' || **c == '$').collect()
}

fn starts_with(chars: &[char], index: usize, symbol: &str) -> bool {
    symbol.chars().enumerate().all(|(offset, c)| chars.get(index + offset) == Some(&c))
}

/// A string quoted by `chars[start]`; a doubled quote stands for itself. Returns the text and the index after it.
fn quoted(chars: &[char], start: usize, at: usize) -> Result<(String, usize), ParseError> {
    let quote = chars[start];
    let mut text = String::new();
    let mut index = start + 1;
    loop {
        match chars.get(index) {
            None => return Err(ParseError::new(at, "a string is not closed")),
            Some(c) if *c == quote => {
                if chars.get(index + 1) == Some(&quote) {
                    text.push(quote);
                    index += 2;
                } else {
                    return Ok((text, index + 1));
                }
            }
            Some(c) => {
                text.push(*c);
                index += 1;
            }
        }
    }
}

/// A number: digits, an optional fraction, an optional `L`, `d` or `f` suffix.
fn number(chars: &[char], start: usize, at: usize) -> Result<(Token, usize), ParseError> {
    let mut index = start;
    while chars.get(index).is_some_and(char::is_ascii_digit) {
        index += 1;
    }
    let fraction = chars.get(index) == Some(&'.') && chars.get(index + 1).is_some_and(char::is_ascii_digit);
    if fraction {
        index += 1;
        while chars.get(index).is_some_and(char::is_ascii_digit) {
            index += 1;
        }
    }
    let digits: String = chars[start..index].iter().collect();
    let suffix = chars.get(index).copied();
    let float = fraction || matches!(suffix, Some('d' | 'D' | 'f' | 'F'));
    if matches!(suffix, Some('l' | 'L' | 'd' | 'D' | 'f' | 'F')) {
        index += 1;
    }
    let token = if float {
        Token::Float(digits.parse().map_err(|_| ParseError::new(at, "not a number"))?)
    } else {
        Token::Int(digits.parse().map_err(|_| ParseError::new(at, "an integer out of range"))?)
    };
    Ok((token, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_position() {
        let found = tokens("#a.b == 'it''s'", 10).unwrap();
        assert_eq!(found[0], Located { token: Token::Hash("a".into()), at: 10 });
        assert_eq!(found[3], Located { token: Token::Symbol("=="), at: 15 });
        assert_eq!(found[4], Located { token: Token::Str("it's".into()), at: 18 });
    }

    #[test]
    fn an_unclosed_string_is_refused_where_it_starts() {
        assert_eq!(tokens("'abc", 3).unwrap_err(), ParseError::new(3, "a string is not closed"));
    }
}
