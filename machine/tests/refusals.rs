//! Property: any request, valid or not, on any reachable state either
//! succeeds or is refused with the state left exactly as it was; and every
//! invariant of `oplife_machine::invariants` holds after every step.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_machine::{Domain, Lifecycle, Limits, LostPolicy, Request, State, invariants};
use oplife_spec::OperationKind;
use proptest::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
struct T;
impl Domain for T {
    type OpId = u8;
    type WaitId = u8;
    type RunId = ();
    type Result = u8;
    type Error = u8;
    type Reason = u8;
    type Progress = u8;
    type Shared = oplife_machine::Inline<oplife_machine::Outcome<Self>>;
}

fn request() -> impl Strategy<Value = Request<T>> {
    let id = 0u8..4;
    prop_oneof![
        (id.clone(), any::<bool>(), any::<bool>()).prop_map(|(id, child, expects_peer)| Request::Register {
            id,
            kind: if child { OperationKind::MobMemberChild } else { OperationKind::BackgroundToolOp },
            expects_peer,
            kind_limit: None,
            limit: None,
            source: None,
        }),
        id.clone().prop_map(|id| Request::ProvisioningSucceeded { id }),
        (id.clone(), any::<u8>()).prop_map(|(id, error)| Request::ProvisioningFailed { id, error }),
        (id.clone(), any::<Option<u8>>()).prop_map(|(id, reason)| Request::AbortProvisioning { id, reason }),
        id.clone().prop_map(|id| Request::PeerReady { id }),
        id.clone().prop_map(|id| Request::RegisterWatcher { id }),
        (id.clone(), any::<u8>()).prop_map(|(id, update)| Request::ReportProgress { id, update }),
        (id.clone(), any::<u8>()).prop_map(|(id, result)| Request::Complete { id, result }),
        (id.clone(), any::<u8>()).prop_map(|(id, error)| Request::Fail { id, error }),
        (id.clone(), any::<Option<u8>>()).prop_map(|(id, reason)| Request::Cancel { id, reason }),
        id.clone().prop_map(|id| Request::RequestRetire { id }),
        id.clone().prop_map(|id| Request::MarkRetired { id }),
        id.clone().prop_map(|id| Request::CollectTerminal { id }),
        any::<u8>().prop_map(|reason| Request::TerminateOwner { reason }),
        Just(Request::CollectCompleted),
        (0u8..3, proptest::collection::vec(0u8..5, 0..4)).prop_map(|(wait, ids)| Request::BeginWait {
            wait,
            ids,
            run: ()
        }),
        (0u8..3).prop_map(|wait| Request::CancelWait { wait }),
        // A restart: the test replaces the empty image with the current
        // state's image and restores it into a fresh state.
        any::<Option<u8>>().prop_map(|reason| Request::Restore {
            image: Box::new(State::<T>::new().image()),
            policy: match reason {
                Some(reason) => LostPolicy::Terminate { reason },
                None => LostPolicy::Cancel { reason },
            },
            keep: Vec::new(),
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn refused_requests_change_nothing_and_bookkeeping_holds(
        steps in proptest::collection::vec(request(), 1..60),
        max_completed in 0usize..3,
        max_concurrent in proptest::option::of(1usize..4),
        max_feed in 0usize..4,
    ) {
        let lc = Lifecycle::standard(Limits { max_completed, max_concurrent, feed_retention: max_feed });
        let mut st = State::<T>::new();
        let mut reused = st.image();
        for step in steps {
            if let Request::Restore { policy, .. } = step {
                let image = st.image();
                let mut fresh = State::<T>::new();
                lc.apply(&mut fresh, Request::Restore { image: Box::new(image.clone()), policy: policy.clone(), keep: Vec::new() }).unwrap();
                // Every captured terminal record and feed entry survives the
                // restart; the lost operations' endings follow them, and only
                // retention (the oldest first) makes room for those.
                let lost: Vec<u8> =
                    image.operations.iter().filter(|op| !op.status.is_terminal()).map(|op| op.id).collect();
                let mut expected: Vec<u8> = image.retained.iter().copied().chain(lost.iter().copied()).collect();
                expected.drain(..expected.len().saturating_sub(max_completed));
                prop_assert_eq!(fresh.retained().copied().collect::<Vec<_>>(), expected);
                // Resuming the same image, then restoring what was resumed,
                // is the same restart (how a durable registry reopens).
                let mut resumed = State::<T>::new();
                lc.apply(&mut resumed, Request::Resume { image: Box::new(image.clone()) }).unwrap();
                prop_assert_eq!(resumed.image(), image.clone());
                let mut reopened = State::<T>::new();
                let again = Request::Restore { image: Box::new(resumed.image()), policy: policy.clone(), keep: Vec::new() };
                lc.apply(&mut reopened, again).unwrap();
                prop_assert_eq!(&reopened, &fresh);
                for op in image.operations.iter().filter(|op| op.status.is_terminal()) {
                    if fresh.status(&op.id).is_known() {
                        prop_assert_eq!(fresh.operation(&op.id).and_then(|o| o.outcome()), op.outcome.as_deref());
                    }
                }
                let after: Vec<_> = fresh.feed().entries().cloned().collect();
                prop_assert_eq!(fresh.feed().watermark(), image.feed_watermark + lost.len() as u64);
                prop_assert_eq!(after.len(), (image.feed.len() + lost.len()).min(max_feed));
                for entry in after.iter().filter(|e| e.seq <= image.feed_watermark) {
                    prop_assert!(image.feed.contains(entry));
                }
                prop_assert!(fresh.operations().all(|(_, op)| op.status().is_terminal()));
                st = fresh;
                continue;
            }
            let before = st.clone();
            // Accepted, then dropped: nothing changes.
            let mut untouched = st.clone();
            let checked = lc.accept(&mut untouched, step.clone()).map(|accepted| accepted.row());
            prop_assert_eq!(&untouched, &before);
            let applied = lc.apply(&mut st, step);
            // Comparing images in place answers as building them does.
            prop_assert_eq!(st.same_image(&before), st.image() == before.image());
            prop_assert_eq!(before.same_image(&st), st.image() == before.image());
            // `accept` refuses exactly what `apply` refuses.
            prop_assert_eq!(checked.as_ref().err(), applied.as_ref().err());
            match applied {
                Ok(_) => {}
                Err(error) => {
                    prop_assert_eq!(&st, &before, "refused with {} but changed the state", error);
                    prop_assert_ne!(error.kind(), oplife_spec::ErrorKind::Internal);
                }
            }
            // Every reachable state keeps every invariant, and so has an
            // image that a restore accepts.
            prop_assert_eq!(invariants::check_state(&st, lc.table(), &lc.limits()), Ok(()));
            prop_assert_eq!(invariants::check_image(&st.image(), lc.table()), Ok(()));
            // An image written over the last step's buffers is the image.
            st.image_into(&mut reused);
            prop_assert_eq!(&reused, &st.image());
        }
    }
}
