//! One call at a time per upload id, for the calls that end an upload or read what they remove.
//!
//! `s3s-fs` 0.14.1 completes and aborts an upload in many steps on its files, each assuming
//! the files it saw a moment before are still there: a complete and an abort of one upload
//! sent together could make either fail halfway with a 500 `InternalError` (a file gone
//! between its check and its use) or with `AccessDenied` (its owner file gone). The front door
//! makes them take turns: the second then finds the upload ended and answers `NoSuchUpload`.
//! ListParts, which reads the part files they remove, takes its turn too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::OwnedMutexGuard;

/// The upload ids some call holds or waits for.
#[derive(Debug, Default)]
pub struct Turns {
    held: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A call's turn on one upload id, until it is dropped.
#[derive(Debug)]
pub struct Turn<'a> {
    turns: &'a Turns,
    id: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Turns {
    fn held(&self) -> MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<()>>>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until no other call holds upload `id`, then holds it.
    pub async fn take(&self, id: &str) -> Turn<'_> {
        // Made first, so that a call dropped while it waits forgets the id too.
        let mut turn = Turn {
            turns: self,
            id: id.to_owned(),
            guard: None,
        };
        let mutex = Arc::clone(self.held().entry(id.to_owned()).or_default());
        turn.guard = Some(mutex.lock_owned().await);
        turn
    }

    /// How many upload ids are held or waited for.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.held().len()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut held = self.turns.held();
        drop(self.guard.take());
        // Forgotten once no call holds or waits for it (only the map has it then).
        if held
            .get(&self.id)
            .is_some_and(|mutex| Arc::strong_count(mutex) == 1)
        {
            held.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn calls_on_one_id_take_turns_and_other_ids_do_not_wait() {
        let turns = Turns::default();
        let first = turns.take("a").await;
        let other = tokio::time::timeout(Duration::from_secs(1), turns.take("b")).await;
        assert!(other.is_ok(), "another id does not wait");
        let waiting = tokio::time::timeout(Duration::from_millis(50), turns.take("a")).await;
        assert!(waiting.is_err(), "the same id waits");
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(1), turns.take("a")).await;
        assert!(second.is_ok(), "and gets its turn once the first is done");
    }

    #[tokio::test]
    async fn an_id_is_forgotten_once_nobody_holds_or_waits_for_it() {
        let turns = Turns::default();
        let first = turns.take("a").await;
        let (second, ()) = tokio::join!(turns.take("a"), async {
            tokio::task::yield_now().await;
            drop(first);
        });
        assert_eq!(turns.len(), 1);
        drop(second);
        assert_eq!(turns.len(), 0);
    }

    #[tokio::test]
    async fn a_call_dropped_while_it_waits_leaves_nothing() {
        let turns = Turns::default();
        let first = turns.take("a").await;
        let mut waiting = Box::pin(turns.take("a"));
        let gave_up = tokio::time::timeout(Duration::from_millis(20), &mut waiting).await;
        assert!(gave_up.is_err(), "it waits");
        // Its turn comes, but it is dropped before it takes it.
        drop(first);
        drop(waiting);
        assert_eq!(turns.len(), 0);
    }
}
