//! Hide and seek: two threads taking turns through one `Condition`.
//!
//! The seeker covers its eyes and counts; the hider hides; the seeker looks
//! and finds; the hider comes out. Each step waits for the other player's
//! step with `wait_for` on a shared turn number, and announces its own with
//! `notify`. Whichever thread the OS starts first, the game always plays in
//! this order.
//!
//! Run with `cargo run -p concur --example hide_and_seek`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use concur::sync::Condition;
use concur::thread::Builder;

/// The game's script: who speaks at each turn.
const SCRIPT: [(&str, &str); 6] = [
    ("seeker", "I have covered my eyes; counting to ten"),
    ("hider", "I am hiding behind the curtain"),
    ("seeker", "ten! ready or not, here I come"),
    ("hider", "(holds breath)"),
    ("seeker", "found you behind the curtain!"),
    ("hider", "fine, you found me; my turn to seek"),
];

fn play(role: &'static str, board: Arc<(Condition, AtomicUsize)>) {
    let (cond, turn) = &*board;
    for (step, &(speaker, line)) in SCRIPT.iter().enumerate() {
        if speaker != role {
            continue;
        }
        let _held = cond.guard();
        cond.wait_for(|| turn.load(Ordering::Relaxed) == step).expect("the lock is held");
        println!("{role:>6}: {line}");
        turn.store(step + 1, Ordering::Relaxed);
        cond.notify_all().expect("the lock is held");
    }
}

fn main() {
    let board = Arc::new((Condition::new(), AtomicUsize::new(0)));
    // The hider starts first, but must still wait for the seeker's first move.
    let players: Vec<_> = ["hider", "seeker"]
        .into_iter()
        .map(|role| {
            let board = board.clone();
            Builder::new().name(role).spawn(move || play(role, board)).expect("the OS starts a thread")
        })
        .collect();
    for player in players {
        player.join().expect("a player does not panic");
    }
    println!("game over after {} turns", board.1.load(Ordering::Relaxed));
}
