//! Splits an expression into tokens, remembering where each one starts and ends so the
//! parser can insist that selectors are written without spaces (`Meta.env`, not `Meta . env`),
//! as go-bexpr's grammar does.

use crate::FilterError;

/// One lexical unit. Keywords (`and`, `in`, `empty` …) are [`Tok::Word`]s: whether a word is
/// a keyword depends on where it stands, which only the parser knows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
    /// A double-quoted (escapes resolved) or backquoted string, without its quotes.
    Str(String),
    /// A number literal exactly as written (`-1.50` stays `-1.50`).
    Num(String),
    /// `[A-Za-z][A-Za-z0-9_]*`
    Word(String),
    End,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    /// Byte offsets of the token in the expression.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Builds the syntax error for byte `offset` of `input`.
pub(crate) fn syntax_error(input: &str, offset: usize, message: impl Into<String>) -> FilterError {
    let column = input.get(..offset).map_or(offset, |s| s.chars().count()) + 1;
    FilterError::Syntax {
        offset,
        column,
        message: message.into(),
    }
}

/// Tokenises the whole expression; the last token is always [`Tok::End`].
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let mut lexer = Lexer {
        input,
        chars: input.char_indices().peekable(),
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let end = token.tok == Tok::End;
        tokens.push(token);
        if end {
            return Ok(tokens);
        }
    }
}

struct Lexer<'a> {
    input: &'a str,
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl Lexer<'_> {
    fn offset(&mut self) -> usize {
        self.chars.peek().map_or(self.input.len(), |&(i, _)| i)
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> FilterError {
        syntax_error(self.input, offset, message)
    }

    fn next_token(&mut self) -> Result<Token, FilterError> {
        while self
            .chars
            .next_if(|&(_, c)| matches!(c, ' ' | '\t' | '\n' | '\r'))
            .is_some()
        {}
        let start = self.offset();
        let Some((_, c)) = self.chars.next() else {
            return Ok(Token {
                tok: Tok::End,
                start,
                end: start,
            });
        };
        let tok = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '.' => Tok::Dot,
            '=' | '!' => {
                if self.chars.next_if(|&(_, c)| c == '=').is_none() {
                    return Err(self.error(start, format!("expected \"{c}=\"")));
                }
                if c == '=' { Tok::Equal } else { Tok::NotEqual }
            }
            '"' => Tok::Str(self.quoted(start)?),
            '`' => Tok::Str(self.raw(start)?),
            '-' | '0'..='9' => Tok::Num(self.number(start, c)?),
            c if c.is_ascii_alphabetic() => {
                let mut word = String::from(c);
                while let Some((_, c)) = self
                    .chars
                    .next_if(|&(_, c)| c.is_ascii_alphanumeric() || c == '_')
                {
                    word.push(c);
                }
                Tok::Word(word)
            }
            other => return Err(self.error(start, format!("unexpected character {other:?}"))),
        };
        let end = self.offset();
        Ok(Token { tok, start, end })
    }

    /// A backquoted string: everything up to the next backquote, no escapes (Go's raw string).
    fn raw(&mut self, start: usize) -> Result<String, FilterError> {
        let mut out = String::new();
        for (_, c) in self.chars.by_ref() {
            if c == '`' {
                return Ok(out);
            }
            out.push(c);
        }
        Err(self.error(start, "unterminated raw string"))
    }

    /// A double-quoted string with Go's escapes (`\n`, `\"`, `\x41`, `\101`, `\u00e9` …).
    fn quoted(&mut self, start: usize) -> Result<String, FilterError> {
        let mut out = String::new();
        loop {
            let Some((at, c)) = self.chars.next() else {
                return Err(self.error(start, "unterminated string"));
            };
            match c {
                '"' => return Ok(out),
                '\n' | '\r' => return Err(self.error(at, "newline in string")),
                '\\' => out.push(self.escape(at)?),
                c => out.push(c),
            }
        }
    }

    fn escape(&mut self, at: usize) -> Result<char, FilterError> {
        let Some((_, c)) = self.chars.next() else {
            return Err(self.error(at, "unterminated string"));
        };
        let simple = match c {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            _ => None,
        };
        if let Some(c) = simple {
            return Ok(c);
        }
        let (digits, radix) = match c {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => (2, 8),
            _ => return Err(self.error(at, format!("invalid escape \"\\{c}\""))),
        };
        let mut code = if radix == 8 {
            c.to_digit(8).unwrap_or(0)
        } else {
            0
        };
        for _ in 0..digits {
            let digit = self
                .chars
                .next()
                .and_then(|(_, d)| d.to_digit(radix))
                .ok_or_else(|| self.error(at, "invalid escape"))?;
            code = code * radix + digit;
        }
        // `\x` and octal escapes are single bytes in Go; above 0x7f they would not be UTF-8.
        if matches!(c, 'x' | '0'..='7') && code > 0x7f {
            return Err(self.error(at, "byte escape is not valid UTF-8"));
        }
        char::from_u32(code)
            .ok_or_else(|| self.error(at, "escape is not a valid Unicode character"))
    }

    /// `-?[0-9]+(\.[0-9]+)?`, which must not run straight into a word or another dot
    /// (`10.0.0.1` unquoted is an error, as in go-bexpr).
    fn number(&mut self, start: usize, first: char) -> Result<String, FilterError> {
        let mut out = String::from(first);
        let mut digits = usize::from(first != '-');
        while let Some((_, c)) = self.chars.next_if(|&(_, c)| c.is_ascii_digit()) {
            out.push(c);
            digits += 1;
        }
        if digits == 0 {
            return Err(self.error(start, "expected a digit after \"-\""));
        }
        if self.chars.next_if(|&(_, c)| c == '.').is_some() {
            out.push('.');
            let mut fraction = 0;
            while let Some((_, c)) = self.chars.next_if(|&(_, c)| c.is_ascii_digit()) {
                out.push(c);
                fraction += 1;
            }
            if fraction == 0 {
                return Err(self.error(start, "invalid number"));
            }
        }
        if self
            .chars
            .peek()
            .is_some_and(|&(_, c)| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return Err(self.error(start, "invalid number"));
        }
        Ok(out)
    }
}
