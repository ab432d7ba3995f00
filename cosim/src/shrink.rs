//! From a failing random run to a small vector suite that a chip team can attach to a bug.
//!
//! A run's stimulus in program order ([`StepLog`]: register accesses, memory edits, injected
//! read errors, requests) becomes a suite through the golden model ([`suite_from_steps`]), which
//! is replayed in order on the RTL. When that sequential replay fails, the suite is shrunk while
//! it keeps failing the same way (the same first failed check, by its description):
//! 1. everything after the first failing step is cut;
//! 2. all requests but the failing one are dropped at once, else the requests are delta-debugged
//!    (ddmin, removing complements of ever smaller chunks);
//! 3. the same for the register reads (polls, fault handling);
//! 4. ddmin over what is left (memory edits, register writes, error injections),
//!
//! each trial a fresh suite from the model and a fresh replay on the RTL, within a budget of
//! trials. A failure that needs the run's timing (a race the sequential replay does not
//! recreate) does not reproduce: then there is no suite, and the caller says so.

use crate::dut::DutConfig;
use crate::lockstep::StepLog;
use crate::sim::Sabotage;
use crate::vectors::record::Recorder;
use crate::vectors::replay::{replay_sabotaged, Failure};
use crate::vectors::{Step, Suite};
use iommu_driver::mem::HostMemory;
use iommu_driver::model::ModelConfig;

/// The suite the golden model makes of `steps` from memory `image`, named and configured as
/// `o` says (allowed sets that leave the final state to the unit's choice are recorded, not
/// refused).
pub fn suite_from_steps(
    o: &ShrinkOpts,
    image: &HostMemory,
    steps: &[Step],
) -> Result<Suite, String> {
    let cfg = ModelConfig::from_cap_ecap(o.cap, o.ecap, 48);
    let mut r = Recorder::from_image(cfg, image.clone());
    r.lenient = true;
    for s in steps {
        r.feed(s)?;
    }
    Ok(r.finish(&o.name, &o.description, o.seed, o.config))
}

/// A shrunk failure.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The shrunk vector suite, built by the golden model from the remaining steps.
    pub suite: Suite,
    /// The first failed check of the shrunk suite on the RTL.
    pub failure: Failure,
    /// Steps and requests of the run's whole stimulus.
    pub from_steps: usize,
    /// Requests (`Step::Request`) in the run's whole stimulus.
    pub from_requests: usize,
    /// Suites built and replayed.
    pub trials: usize,
    /// False when the budget ran out before no single chunk could be removed.
    pub minimal: bool,
}

/// What a shrink needs besides the stimulus.
#[derive(Debug, Clone)]
pub struct ShrinkOpts {
    /// CAP register value the golden model is configured from (with `ecap`, via
    /// `ModelConfig::from_cap_ecap`).
    pub cap: u64,
    /// ECAP register value the golden model is configured from.
    pub ecap: u64,
    /// The RTL parameter set every replay runs on.
    pub config: DutConfig,
    /// Seed of the failing run, recorded in the suite.
    pub seed: u64,
    /// Name given to the shrunk suite.
    pub name: String,
    /// Description recorded in the shrunk suite.
    pub description: String,
    /// The bug injected in the run (the same is injected in every replay).
    pub sabotage: Option<Sabotage>,
    /// Most suites to build and replay.
    pub budget: usize,
}

struct Search<'a> {
    opts: &'a ShrinkOpts,
    image: &'a HostMemory,
    what: String,
    trials: usize,
    progress: &'a mut dyn FnMut(usize, usize),
}

impl Search<'_> {
    fn suite(&self, steps: &[Step]) -> Option<Suite> {
        suite_from_steps(self.opts, self.image, steps).ok()
    }

    /// First failure of `steps` on the RTL, if any.
    fn first_failure(&mut self, steps: &[Step]) -> Option<Failure> {
        self.trials += 1;
        (self.progress)(self.trials, steps.len());
        first_failure(&self.suite(steps)?, self.opts.sabotage)
    }

    /// Does `steps` still fail the same way?
    fn fails(&mut self, steps: &[Step]) -> bool {
        if self.trials >= self.opts.budget {
            return false;
        }
        self.first_failure(steps)
            .is_some_and(|f| f.what == self.what)
    }

    fn out_of_budget(&self) -> bool {
        self.trials >= self.opts.budget
    }

    /// Remove every step `pick` selects at once; keep the removal if it still fails.
    fn drop_all(&mut self, steps: &mut Vec<Step>, pick: &dyn Fn(usize, &Step) -> bool) -> bool {
        let trial: Vec<Step> = steps
            .iter()
            .enumerate()
            .filter(|(i, s)| !pick(*i, s))
            .map(|(_, s)| s.clone())
            .collect();
        if trial.len() < steps.len() && self.fails(&trial) {
            *steps = trial;
            true
        } else {
            false
        }
    }

    /// Delta debugging over the steps `pick` selects. Returns false if the budget ran out.
    fn ddmin(&mut self, steps: &mut Vec<Step>, pick: &dyn Fn(&Step) -> bool) -> bool {
        let mut n = 2usize;
        loop {
            let idx: Vec<usize> = (0..steps.len()).filter(|i| pick(&steps[*i])).collect();
            if idx.is_empty() {
                return true;
            }
            let size = idx.len().div_ceil(n.min(idx.len()));
            let mut reduced = false;
            for chunk in idx.chunks(size) {
                if self.out_of_budget() {
                    return false;
                }
                let gone: std::collections::BTreeSet<usize> = chunk.iter().copied().collect();
                let trial: Vec<Step> = steps
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !gone.contains(i))
                    .map(|(_, s)| s.clone())
                    .collect();
                if self.fails(&trial) {
                    *steps = trial;
                    n = n.saturating_sub(1).max(2);
                    reduced = true;
                    break;
                }
            }
            if !reduced {
                if size == 1 {
                    return true;
                }
                n = (n * 2).min(idx.len());
            }
        }
    }
}

/// The first failed check of `suite` on the RTL with `sabotage` injected, if any.
fn first_failure(suite: &Suite, sabotage: Option<Sabotage>) -> Option<Failure> {
    replay_sabotaged(suite, sabotage)
        .failures
        .into_iter()
        .next()
}

fn step_index(f: &Failure) -> Option<usize> {
    f.at.strip_prefix("step ")?.parse().ok()
}

/// Shrink the failure of `log`'s stimulus (see the module doc). `Ok(None)`: the sequential
/// replay of the whole stimulus passes (the failure needs the run's timing). `progress` gets the
/// trial number and the steps tried.
pub fn shrink(
    log: &StepLog,
    opts: &ShrinkOpts,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Option<Shrunk>, String> {
    let from_steps = log.steps.len();
    let from_requests = log
        .steps
        .iter()
        .filter(|s| matches!(s, Step::Request { .. }))
        .count();
    let mut search = Search {
        opts,
        image: &log.image,
        what: String::new(),
        trials: 0,
        progress,
    };
    let full = search
        .suite(&log.steps)
        .ok_or("the golden model cannot make a suite of the run's stimulus")?;
    search.trials += 1;
    let Some(first) = first_failure(&full, opts.sabotage) else {
        return Ok(None);
    };
    search.what = first.what.clone();
    let mut steps = log.steps.clone();
    // 1. Nothing after the first failing step matters.
    if let Some(i) = step_index(&first) {
        steps.truncate(i + 1);
    }
    let last_request = steps
        .iter()
        .rposition(|s| matches!(s, Step::Request { .. }));
    // 2. Requests: all but the last (the failing one, after the cut) at once, else ddmin.
    let mut minimal = true;
    if let Some(last) = last_request {
        let is_req = |i: usize, s: &Step| i != last && matches!(s, Step::Request { .. });
        if !search.drop_all(&mut steps, &is_req) {
            minimal &= search.ddmin(&mut steps, &|s| matches!(s, Step::Request { .. }));
        }
    }
    // 3. Register reads.
    if !search.drop_all(&mut steps, &|_, s| matches!(s, Step::Read { .. })) {
        minimal &= search.ddmin(&mut steps, &|s| matches!(s, Step::Read { .. }));
    }
    // 4. Everything else, then the requests and reads once more.
    minimal &= search.ddmin(&mut steps, &|s| !matches!(s, Step::Request { .. }));
    minimal &= search.ddmin(&mut steps, &|_| true);
    let suite = search
        .suite(&steps)
        .ok_or("the golden model cannot make a suite of the shrunk stimulus")?;
    let failure = first_failure(&suite, opts.sabotage)
        .ok_or("the shrunk suite passes (the search kept a subset that did not fail)")?;
    Ok(Some(Shrunk {
        suite,
        failure,
        from_steps,
        from_requests,
        trials: search.trials,
        minimal: minimal && !search.out_of_budget(),
    }))
}
