//! The store's unit tests: firing order, never early, cancel and reset at
//! every tier, entries moving down the tiers, and a model check against a
//! plain sorted list.

use super::*;

/// The tests' time zero: aligned with the slots of every level, so the tier
/// a deadline lands in does not depend on when the test runs.
fn zero() -> Instant {
    Instant::from_ns(0)
}

fn noop() -> Waker {
    Waker::noop().clone()
}

/// Deadlines that land in each tier when armed at time zero: the precise
/// tier, then wheel levels 0 to 7.
fn one_per_tier() -> Vec<Duration> {
    vec![
        Duration::from_micros(20),          // precise tier: this tick
        Duration::from_millis(3),           // level 0
        Duration::from_millis(100),         // level 1
        Duration::from_secs(10),            // level 2
        Duration::from_secs(3600),          // level 3 or 4
        Duration::from_secs(86_400 * 30),   // level 5
        Duration::from_secs(86_400 * 365),  // level 6
        Duration::from_secs(86_400 * 3650), // level 6 or 7
    ]
}

/// The tier an entry is in: `None` for the precise tier, `Some(level)`
/// for the wheel. Panics for a fired or free entry.
fn tier(t: &Timers, key: u32) -> Option<u8> {
    match t.entries[key as usize].place {
        Place::Near(_) => None,
        Place::Wheel(at) => Some(at.level),
        other => panic!("entry {key} is not armed: {other:?}"),
    }
}

/// Runs the loop's part: waits (jumps) to each next deadline in turn until
/// `until`, firing what is due; returns `(key, instant it fired at)` for
/// every timer fired, and how many times the loop looked.
fn run_until(t: &mut Timers, keys: &[u32], until: Instant) -> (Vec<(u32, Instant)>, usize) {
    let mut fired = vec![];
    let mut looks = 0;
    while let Some(next) = t.next_deadline() {
        if next > until {
            break;
        }
        looks += 1;
        let mut out = Expired::default();
        t.take_expired(next, &mut out);
        for &k in keys {
            if t.has_fired(k) && !fired.iter().any(|(f, _)| *f == k) {
                fired.push((k, next));
            }
        }
    }
    (fired, looks)
}

#[test]
fn the_tiers_cover_every_level() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let tiers: Vec<Option<u8>> = one_per_tier()
        .into_iter()
        .map(|d| {
            let k = t.insert(t0 + d, noop());
            tier(&t, k)
        })
        .collect();
    assert_eq!(tiers[0], None, "due within the current tick");
    for (i, level) in tiers.iter().enumerate().skip(1) {
        assert!(level.is_some(), "deadline {i} is in the wheel");
    }
    assert!(tiers.windows(2).skip(1).all(|w| w[0] <= w[1]));
    let far = t.insert(t0 + Duration::from_secs(86_400 * 365 * 200), noop());
    assert_eq!(tier(&t, far), Some(7));
}

#[test]
fn timers_fire_in_deadline_order_then_arming_order() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let ms = Duration::from_millis;
    let c = t.insert(t0 + ms(300), noop()); // level 1
    let a = t.insert(t0 + ms(1), noop()); // level 0
    let b1 = t.insert(t0 + ms(2), noop());
    let b2 = t.insert(t0 + ms(2), noop());
    let d = t.insert(t0 + Duration::from_micros(10), noop()); // precise
    let (fired, _) = run_until(&mut t, &[a, b1, b2, c, d], t0 + ms(400));
    let order: Vec<u32> = fired.iter().map(|(k, _)| *k).collect();
    assert_eq!(order, vec![d, a, b1, b2, c]);
    assert!(t.is_empty());
}

#[test]
fn equal_deadlines_fire_in_arming_order_whenever_they_were_armed() {
    // The wheel's lists are last in, first out, and entries move down
    // through them; the arming order must survive all that.
    let t0 = zero();
    let mut t = Timers::new(t0);
    let deadline = t0 + Duration::from_millis(500);
    let flags: Vec<std::sync::Arc<Flag>> = (0..3).map(|_| Default::default()).collect();
    t.insert(deadline, Waker::from(flags[0].clone()));
    t.insert(deadline, Waker::from(flags[1].clone()));
    t.take_expired(t0 + Duration::from_millis(300), &mut Expired::default());
    t.insert(deadline, Waker::from(flags[2].clone()));
    let mut out = Expired::default();
    while let Some(next) = t.next_deadline() {
        t.take_expired(next, &mut out);
    }
    assert_eq!(out.wakers.len(), 3);
    for (waker, flag) in out.wakers.iter().zip(&flags) {
        assert!(waker.will_wake(&Waker::from(flag.clone())));
    }
}

#[derive(Default)]
struct Flag;

impl std::task::Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {}
}

#[test]
fn nothing_fires_before_its_deadline_at_any_tier() {
    let t0 = zero();
    for d in one_per_tier() {
        let mut t = Timers::new(t0);
        let k = t.insert(t0 + d, noop());
        let just_before = t0 + d - Duration::from_nanos(1);
        let (fired, _) = run_until(&mut t, &[k], just_before);
        assert!(fired.is_empty(), "a {d:?} timer fired early");
        let mut out = Expired::default();
        assert_eq!(t.take_expired(just_before, &mut out), 0);
        assert!(!t.has_fired(k));
        assert_eq!(t.next_deadline(), Some(t0 + d), "exact once it is near");
        assert_eq!(t.take_expired(t0 + d, &mut out), 1, "{d:?}");
        assert_eq!(out.wakers.len(), 1);
    }
}

#[test]
fn a_far_timer_moves_down_one_level_at_a_time_and_fires_exactly() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let deadline = t0 + Duration::from_secs(3600) + Duration::from_nanos(123_456);
    let k = t.insert(deadline, noop());
    let mut levels = vec![tier(&t, k)];
    let mut looks = 0;
    while !t.has_fired(k) {
        let next = t.next_deadline().unwrap();
        levels.push(tier(&t, k));
        assert!(next <= deadline);
        looks += 1;
        t.take_expired(next, &mut Expired::default());
        if t.has_fired(k) {
            assert_eq!(next, deadline, "fired exactly at its deadline");
        }
    }
    levels.dedup();
    let wheel: Vec<u8> = levels.iter().flatten().copied().collect();
    assert!(wheel.windows(2).all(|w| w[0] > w[1]), "{levels:?}");
    assert_eq!(levels.last(), Some(&None), "ends in the precise tier");
    assert!(
        looks <= 9,
        "{looks} looks: at most one per level, then the deadline"
    );
}

#[test]
fn a_hundred_thousand_idle_timeouts_cost_a_few_looks_before_the_first_is_due() {
    // 100,000 connections each arm a 30 s idle timeout within one second,
    // then stay silent: the loop looks only to move whole slots down.
    let t0 = Instant::from_ns(0x0012_3456_789a_bcde);
    let mut t = Timers::new(t0);
    let first = t0 + Duration::from_secs(30);
    for i in 0..100_000u64 {
        t.insert(first + Duration::from_micros(i * 10), noop());
    }
    let mut looks = 0;
    loop {
        let next = t.next_deadline().unwrap();
        assert!(next <= first);
        if next == first {
            break;
        }
        looks += 1;
        assert_eq!(t.take_expired(next, &mut Expired::default()), 0);
    }
    assert!(looks < 10, "{looks} looks before the first deadline");
}

#[test]
fn cancelling_at_every_tier_leaves_the_others_intact() {
    let t0 = zero();
    let tiers = one_per_tier();
    for cancelled in 0..tiers.len() {
        let mut t = Timers::new(t0);
        let keys: Vec<u32> = tiers.iter().map(|d| t.insert(t0 + *d, noop())).collect();
        assert!(t.remove(keys[cancelled]).is_some());
        assert!(
            t.remove(keys[cancelled]).is_none(),
            "a second remove is harmless"
        );
        let (fired, _) = run_until(&mut t, &keys, t0 + tiers[tiers.len() - 1]);
        let fired: Vec<u32> = fired.iter().map(|(k, _)| *k).collect();
        let expected: Vec<u32> = (0..keys.len())
            .filter(|i| *i != cancelled)
            .map(|i| keys[i])
            .collect();
        assert_eq!(fired, expected, "cancelled {:?}", tiers[cancelled]);
        assert!(t.is_empty());
        assert!(t.wheel.is_empty());
    }
}

#[test]
fn a_timer_due_within_268_ms_costs_one_look_at_its_exact_deadline() {
    let t0 = zero();
    for d in [Duration::from_millis(3), Duration::from_millis(100)] {
        let mut t = Timers::new(t0);
        let k = t.insert(t0 + d, noop());
        assert!(tier(&t, k).is_some(), "in the wheel when armed");
        assert_eq!(
            t.next_deadline(),
            Some(t0 + d),
            "the exact deadline at once"
        );
        assert_eq!(tier(&t, k), None, "promoted");
        assert_eq!(t.take_expired(t0 + d, &mut Expired::default()), 1);
    }
}

#[test]
fn cancelling_a_promoted_timer_and_a_fired_one_works() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let a = t.insert(t0 + Duration::from_millis(2), noop());
    let b = t.insert(t0 + Duration::from_millis(2), noop());
    assert_eq!(tier(&t, a), Some(0));
    assert_eq!(t.next_deadline(), Some(t0 + Duration::from_millis(2)));
    assert_eq!(tier(&t, a), None, "promoted to the precise tier");
    assert!(t.remove(a).is_some());
    t.take_expired(t0 + Duration::from_millis(2), &mut Expired::default());
    assert!(t.has_fired(b));
    assert!(t.remove(b).is_none(), "its waker went when it fired");
    assert_eq!(t.len(), 0);
    assert!(t.is_empty());
}

#[test]
fn a_timer_whose_deadline_the_store_has_passed_is_due_without_firing() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let k = t.insert(t0 + Duration::from_secs(1), noop());
    let later = t.insert(t0 + Duration::from_secs(2), noop());
    assert!(!t.is_due(k));
    // The loop looked at 1.5 s but (as if) this timer was armed after it:
    // the store's time passed its deadline without firing it.
    t.rearm(k, t0 + Duration::from_millis(1500));
    t.take_expired(t0 + Duration::from_millis(1500), &mut Expired::default());
    let k2 = t.insert(t0 + Duration::from_millis(1200), noop()); // passed
    assert!(t.is_due(k2), "the store's time is past its deadline");
    assert!(t.has_fired(k2), "taken out of its tier, as if fired");
    assert!(
        t.remove(k2).is_some(),
        "its waker was not taken: nobody was woken"
    );
    assert!(!t.is_due(later));
    assert_eq!(t.len(), 2);
}

#[test]
fn reset_moves_a_timer_earlier_or_later_across_tiers() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let k = t.insert(t0 + Duration::from_secs(10), noop());
    assert!(tier(&t, k).is_some());
    t.rearm(k, t0 + Duration::from_micros(30)); // far to precise
    assert_eq!(tier(&t, k), None);
    assert_eq!(t.next_deadline(), Some(t0 + Duration::from_micros(30)));
    t.rearm(k, t0 + Duration::from_secs(3600)); // precise to far
    assert!(tier(&t, k) >= Some(3));
    t.rearm(k, t0 + Duration::from_millis(1)); // far to level 0
    assert_eq!(tier(&t, k), Some(0));
    let (fired, _) = run_until(&mut t, &[k], t0 + Duration::from_secs(7200));
    assert_eq!(fired, vec![(k, t0 + Duration::from_millis(1))]);
    // A fired timer re-armed later, then earlier, in the past.
    t.rearm(k, t0 + Duration::from_secs(5));
    assert!(!t.has_fired(k));
    t.rearm(k, t0);
    assert_eq!(
        tier(&t, k),
        None,
        "a deadline already passed is due at once"
    );
    assert_eq!(
        t.wait_timeout(t0 + Duration::from_millis(2)),
        Some(Duration::ZERO)
    );
    assert_eq!(
        t.take_expired(t0 + Duration::from_millis(2), &mut Expired::default()),
        1
    );
    assert_eq!(t.len(), 1);
}

#[test]
fn armed_and_cancelled_timers_reuse_one_entry() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let others: Vec<u32> = (0..1000u64)
        .map(|i| t.insert(t0 + Duration::from_millis(i * 37), noop()))
        .collect();
    let capacity = t.entries.capacity();
    for i in 0..100_000u64 {
        let k = t.insert(
            t0 + Duration::from_secs(30) + Duration::from_nanos(i),
            noop(),
        );
        assert_eq!(k, 1000, "the freed entry again");
        t.remove(k);
    }
    assert_eq!(t.entries.capacity(), capacity, "no growth: no allocation");
    assert_eq!(t.len(), others.len());
}

/// Arms `deadline` for `task` at the store's time.
fn arm(t: &mut Timers, deadline: Instant, task: TaskRef) -> u32 {
    t.arm_task(When::At(deadline), task, zero)
        .expect("not passed")
}

#[test]
fn a_task_timer_is_reused_in_place_by_a_deadline_no_earlier_than_its_own() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let (a, b) = (TaskRef { slot: 7, id: 42 }, TaskRef { slot: 9, id: 43 });
    let k = arm(&mut t, t0 + Duration::from_secs(30), a);
    let Place::Wheel(at) = t.entries[k as usize].place else {
        panic!("a 30 s timer is in the wheel")
    };
    // Later: stays in its slot, now for `b`, and the newest armed.
    let seq = t.entries[k as usize].seq;
    assert!(t.reuse(k, When::At(t0 + Duration::from_secs(3000)), b));
    assert_eq!(t.entries[k as usize].place, Place::Wheel(at), "not moved");
    assert!(matches!(t.entries[k as usize].waiter, Waiter::Task(x) if x == b));
    assert_ne!(t.entries[k as usize].seq, seq);
    assert_eq!(t.len(), 1);
    // Earlier: refused, nothing changes.
    assert!(!t.reuse(k, When::At(t0 + Duration::from_secs(29)), a));
    assert!(matches!(t.entries[k as usize].waiter, Waiter::Task(x) if x == b));
    // It fires at its new deadline, exactly, and not at the old one.
    let (fired, looks) = run_until(&mut t, &[k], t0 + Duration::from_secs(4000));
    assert_eq!(fired, vec![(k, t0 + Duration::from_secs(3000))]);
    assert!(
        looks < 10,
        "{looks} looks: a few on the way down, not a tick"
    );
}

#[test]
fn a_timer_with_a_waker_or_out_of_the_wheel_is_never_reused() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let task = TaskRef { slot: 1, id: 1 };
    let with_waker = t.insert(t0 + Duration::from_secs(30), noop());
    assert!(
        !t.reuse(with_waker, When::At(t0 + Duration::from_secs(31)), task),
        "its waker would be dropped here"
    );
    let near = arm(&mut t, t0 + Duration::from_micros(20), task);
    assert!(
        !t.reuse(near, When::At(t0 + Duration::from_secs(31)), task),
        "precise tier"
    );
    let fired = arm(&mut t, t0 + Duration::from_millis(1), task);
    t.take_expired(t0 + Duration::from_millis(2), &mut Expired::default());
    assert!(t.has_fired(fired));
    assert!(
        !t.reuse(fired, When::At(t0 + Duration::from_secs(31)), task),
        "fired"
    );
    assert!(
        !t.reuse(NIL, When::At(t0 + Duration::from_secs(31)), task),
        "no entry"
    );
    assert!(t.remove(with_waker).is_some(), "the waker, to drop");
    assert!(t.remove(near).is_none(), "a task is no waker");
    assert!(t.remove(near).is_none(), "a second remove is harmless");
}

#[test]
fn a_timer_is_armed_for_its_task_and_fires_as_its_run_queue_entry() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let task = TaskRef { slot: 3, id: 9 };
    arm(&mut t, t0 + Duration::from_millis(5), task);
    let waker = t.insert(t0 + Duration::from_millis(5), noop());
    let mut out = Expired::default();
    while let Some(next) = t.next_deadline() {
        t.take_expired(next, &mut out);
    }
    assert_eq!(out.tasks, vec![task]);
    assert_eq!(out.wakers.len(), 1);
    assert!(t.has_fired(waker));
}

#[test]
fn time_moves_while_no_timer_is_armed() {
    // The loop does not look at an empty store, so its time stands still;
    // the next arming brings it up to date.
    let t0 = zero();
    let mut t = Timers::new(t0);
    let k = t.insert(t0 + Duration::from_secs(30), noop());
    t.remove(k);
    assert!(t.is_empty());
    assert!(t.wheel.is_empty());
    let much_later = t0 + Duration::from_secs(3600);
    t.catch_up(much_later);
    let again = t
        .arm_waker(When::At(much_later + Duration::from_secs(30)), noop(), zero)
        .unwrap();
    assert_eq!(t.next_deadline().map(|d| d > much_later), Some(true));
    let (fired, _) = run_until(&mut t, &[again], much_later + Duration::from_secs(60));
    assert_eq!(fired, vec![(again, much_later + Duration::from_secs(30))]);
    assert!(
        t.arm_waker(When::At(t0), noop(), zero).is_err(),
        "passed by the store's time"
    );
}

#[test]
fn an_armed_timer_costs_56_bytes() {
    let per_timer = std::mem::size_of::<Entry>() + std::mem::size_of::<Links>();
    assert!(per_timer <= 56, "{per_timer} bytes");
}

#[test]
fn the_wait_lasts_until_the_earliest_deadline() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    assert_eq!(t.wait_timeout(t0), None, "no timer: wait for I/O alone");
    t.insert(t0 + Duration::from_millis(5), noop());
    t.insert(t0 + Duration::from_micros(50), noop());
    assert_eq!(t.wait_timeout(t0), Some(Duration::from_micros(50)));
    let late = t0 + Duration::from_millis(1);
    assert_eq!(t.wait_timeout(late), Some(Duration::ZERO), "overdue");
}

#[test]
fn long_waits_end_before_the_deadline_even_with_the_kernels_slack() {
    // The kernel may end a wait of `w` up to `w / 1000` late (at most
    // 100 ms). Model the worst case and check that the loop never
    // overshoots, and that it wakes only a few times even for 30 years.
    let t0 = zero();
    for left in [
        Duration::from_millis(11),
        Duration::from_secs(1),
        Duration::from_secs(3600),
        Duration::from_secs(86_400 * 365 * 30),
    ] {
        let mut t = Timers::new(t0);
        t.insert(t0 + left, noop());
        let mut now = t0;
        let mut waits = 0;
        while !t.is_empty() {
            let w = t.wait_timeout(now).unwrap();
            waits += 1;
            let slack = if w > LONG_WAIT {
                (w / 1000).min(Duration::from_millis(100))
            } else {
                Duration::ZERO // the last wait, late by at most 10 µs
            };
            now += w + slack;
            assert!(now <= t0 + left, "a cut wait of {w:?} overshot");
            t.take_expired(now, &mut Expired::default());
        }
        assert!(waits <= 40, "{waits} waits for {left:?}");
    }
}

/// A tiny deterministic random source (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn the_store_agrees_with_a_sorted_list_under_random_use() {
    // Random arms, cancels, resets and clock steps; every look compares
    // what fired with a plain list of (deadline, key).
    let t0 = Instant::from_ns(0x0012_3456_789a_bcde); // on no boundary
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut t = Timers::new(t0);
    let mut model: Vec<(Instant, u32)> = vec![];
    let mut live: Vec<u32> = vec![];
    let mut now = t0;
    let spans = [50_000u64, 5_000_000, 500_000_000, 60_000_000_000];
    for _ in 0..20_000 {
        match rng.next(10) {
            0..=3 => {
                let span = spans[rng.next(4) as usize];
                let d = now + Duration::from_nanos(rng.next(span));
                let k = t.insert(d, noop());
                model.push((d, k));
                live.push(k);
            }
            4 | 5 if !live.is_empty() => {
                let k = live.swap_remove(rng.next(live.len() as u64) as usize);
                t.remove(k);
                model.retain(|(_, m)| *m != k);
            }
            6 if !live.is_empty() => {
                let k = live[rng.next(live.len() as u64) as usize];
                let span = spans[rng.next(4) as usize];
                let d = now + Duration::from_nanos(rng.next(span));
                t.rearm(k, d);
                model.retain(|(_, m)| *m != k);
                model.push((d, k));
            }
            _ => {
                // The loop looks: at its next deadline, or a bit later.
                let next = t.next_deadline();
                let expected_next = model.iter().map(|(d, _)| *d).min();
                assert_eq!(next.is_some(), expected_next.is_some());
                if let (Some(n), Some(e)) = (next, expected_next) {
                    assert!(n <= e, "the store would sleep past a deadline");
                }
                now = match next {
                    Some(n) if rng.next(2) == 0 => n.max(now),
                    _ => now + Duration::from_nanos(rng.next(2_000_000)),
                };
                t.take_expired(now, &mut Expired::default());
                let mut due: Vec<(Instant, u32)> =
                    model.iter().copied().filter(|(d, _)| *d <= now).collect();
                due.sort();
                for (_, k) in &due {
                    assert!(t.has_fired(*k), "a due timer did not fire");
                }
                model.retain(|(d, _)| *d > now);
                for (_, k) in &model {
                    assert!(!t.has_fired(*k), "a timer fired early");
                }
            }
        }
    }
}

#[test]
fn a_timeout_armed_a_duration_after_the_stores_time_is_due_that_long_after_the_loops_next_reading()
{
    // Armed at some instant between the store's time (t0) and the loop's
    // next reading (t0 + 5 ms): due 30 s after that reading, never sooner.
    let t0 = zero();
    let mut t = Timers::new(t0);
    let task = TaskRef { slot: 1, id: 1 };
    let d = Duration::from_secs(30);
    let ns = d.as_nanos() as u64;
    let k = t.arm_task(When::After(ns), task, zero).unwrap();
    assert!(t.entries[k as usize].lazy);
    let reading = t0 + Duration::from_millis(5);
    assert_eq!(
        t.wait_timeout(reading).map(|w| w > Duration::ZERO),
        Some(true)
    );
    // Reused in a later turn: the store's time is then t0 + 10 ms, and the
    // reading after it, t0 + 12 ms. Its slot's allowance is the larger of
    // the two turns' (5 ms): late by 3 ms, never early.
    t.take_expired(t0 + Duration::from_millis(10), &mut Expired::default());
    assert!(t.reuse(k, When::After(ns), task));
    t.observe(t0 + Duration::from_millis(12));
    let (fired, _) = run_until(&mut t, &[k], t0 + Duration::from_secs(60));
    assert_eq!(fired, vec![(k, t0 + Duration::from_millis(15) + d)]);
}

#[test]
fn asking_a_lazy_timeout_for_its_deadline_makes_it_exact_and_never_early() {
    let t0 = zero();
    let mut t = Timers::new(t0);
    let task = TaskRef { slot: 1, id: 1 };
    let d = Duration::from_secs(30);
    let k = t
        .arm_task(When::After(d.as_nanos() as u64), task, zero)
        .unwrap();
    // Asked at t0 + 2 ms: at least 2 ms past the store's time.
    let deadline = t.deadline_of(k, t0 + Duration::from_millis(2));
    assert_eq!(deadline, t0 + Duration::from_millis(2) + d);
    assert!(!t.entries[k as usize].lazy, "exact from now on");
    assert_eq!(t.deadline_of(k, t0 + Duration::from_secs(1)), deadline);
    let (fired, _) = run_until(&mut t, &[k], t0 + Duration::from_secs(60));
    assert_eq!(fired, vec![(k, deadline)]);
}
