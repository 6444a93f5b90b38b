//! Zero heap allocations per lookup: a counting global allocator around
//! every request URL of `data/` in both modes, against a set compiled from
//! real lists (StevenBlack hosts and URLhaus), some with expirations and
//! titles so the metadata path is exercised too.

use indset_test_support::alloc;
use indset_test_support::data as common;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

use alloc::allocations_on_this_thread as allocations;

use indset::{Action, Decision, IndicatorSet, Mode, Timestamp};

#[test]
fn lookups_never_allocate() {
    let mut indicators = common::stevenblack();
    indicators.extend(common::urlhaus());
    let mut indicators = common::dedup(indicators);
    for (i, ind) in indicators.iter_mut().enumerate() {
        if i % 7 == 0 {
            ind.meta.expiration = Some(Timestamp(1_800_000_000 + i as i64));
            ind.meta.title = Some(format!("title {}", i % 13));
        }
        if i % 11 == 0 {
            ind.action = Action::Audit;
        }
    }
    let set = IndicatorSet::from_bytes(indset::compile::build(&indicators)).expect("opens");
    let urls = common::request_urls();
    assert!(urls.len() > 30_000, "{} request URLs", urls.len());
    let now = Timestamp(1_700_000_000);

    let mut decided = 0usize;
    let n = allocations(|| {
        for u in &urls {
            for mode in [Mode::Full, Mode::Domain] {
                decided += usize::from(set.check_at(u, mode, now).decision != Decision::None);
            }
            decided += usize::from(set.check(u, Mode::Full).decision != Decision::None);
            decided += usize::from(set.check(u, Mode::Domain).decision != Decision::None);
        }
    });
    assert_eq!(n, 0, "allocations during {} lookups", urls.len() * 4);
    // The corpus does hit the lists: the walk and the metadata path ran.
    assert!(decided > 1_000, "only {decided} lookups matched");
    // And the counter works.
    assert!(allocations(|| drop(std::hint::black_box(vec![1u8; 16]))) > 0);
}
