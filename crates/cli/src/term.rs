//! The interactive terminal of live enrollment: raw-mode single-key input (crossterm) and line
//! output that works in raw mode. Raw mode is left when the value is dropped, also on errors.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::{bail, Result};
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::terminal;

/// Keys the enrollment session understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Space or Enter: record / stop recording.
    Record,
    /// `r`: re-record the last accepted take.
    Redo,
    /// `s`: skip this prompt.
    Skip,
    /// `p`: pause.
    Pause,
    /// `q`, Esc or Ctrl-C: save and quit.
    Quit,
    /// Anything else.
    Other,
}

/// A terminal in raw mode.
pub struct Term;

impl Term {
    /// Enters raw mode.
    ///
    /// # Errors
    /// When stdin is not a terminal (interactive enrollment needs one).
    pub fn open() -> Result<Term> {
        if !std::io::stdin().is_terminal() {
            bail!("interactive enrollment needs a terminal (stdin is not a TTY); to enroll from files use --from-dir DIR");
        }
        terminal::enable_raw_mode()?;
        Ok(Term)
    }

    /// Prints `text` followed by a line break (CR LF: raw mode does not translate).
    pub fn say(&self, text: &str) {
        let mut out = std::io::stdout();
        for line in text.split('\n') {
            let _ = write!(out, "{line}\r\n");
        }
        let _ = out.flush();
    }

    /// Waits for a key press.
    ///
    /// # Errors
    /// Terminal read errors.
    pub fn key(&self) -> Result<Key> {
        loop {
            if let Event::Key(k) = event::read()? {
                if k.kind != KeyEventKind::Release {
                    return Ok(classify(k));
                }
            }
        }
    }

    /// A key press if one is waiting, without blocking.
    pub fn poll_key(&self) -> Option<Key> {
        while event::poll(Duration::ZERO).ok()? {
            if let Ok(Event::Key(k)) = event::read() {
                if k.kind != KeyEventKind::Release {
                    return Some(classify(k));
                }
            }
        }
        None
    }
}

fn classify(k: KeyEvent) -> Key {
    match k.code {
        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Key::Quit,
        KeyCode::Char(' ') | KeyCode::Enter => Key::Record,
        KeyCode::Char('r') | KeyCode::Char('R') => Key::Redo,
        KeyCode::Char('s') | KeyCode::Char('S') => Key::Skip,
        KeyCode::Char('p') | KeyCode::Char('P') => Key::Pause,
        KeyCode::Char('q') | KeyCode::Char('Q') | KeyCode::Esc => Key::Quit,
        _ => Key::Other,
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}
