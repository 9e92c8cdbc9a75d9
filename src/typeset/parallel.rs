//! Independent pieces of work (chapters to convert, sources to parse)
//! spread over the machine's cores, with results in the input's order so
//! that output never depends on which thread finished first.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` applied to every item, on as many threads as the machine has cores;
/// the results in the order of `items`. Threads take the next item as they
/// finish one, so a long chapter does not hold up the rest. A panic in `f`
/// goes on in the caller, as it would without threads.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            break;
                        };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_unstable_by_key(|d| d.0);
    done.into_iter().map(|d| d.1).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u64> = (0..1000).collect();
        // Uneven work, so threads finish out of order.
        let out = super::map(&items, |&n| (0..(n % 7) * 1000).fold(n, |a, b| a ^ b) ^ n);
        let expected: Vec<u64> = items
            .iter()
            .map(|&n| (0..(n % 7) * 1000).fold(n, |a, b| a ^ b) ^ n)
            .collect();
        assert_eq!(out, expected);
        assert!(super::map(&[] as &[u8], |&b| b).is_empty());
    }
}
