// Package diffusion owns the arithmetic of a discrete DDPM noise schedule and of the CSDI
// sampler, shared by the CSDI model, the noise_schedule node, the ICR (input consistency
// regularization) procedure and the truncation-time (t*) analysis.
//
// It holds four things:
//
//   - Schedule: β_t, α_t = 1−β_t, ᾱ_t = Π_{s≤t} α_s, the SNR λ_t = ᾱ_t/(1−ᾱ_t) and the
//     posterior variance β̃_t, for T steps indexed t = 0..T−1 exactly as in CSDI's code, so
//     ᾱ_0 = 1−β_0 already includes one step of noise. Constructors: Power (CSDI's quad and
//     linear schedules and any power p > 0), Cosine (Nichol & Dhariwal 2021), MidCourse
//     (β_t = ω·√(u−u²)) and FromFunc for user formulas.
//   - The sampler: the forward marginal, one reverse step of CSDI's ancestral sampler
//     (Schedule.ReverseStep), and the full and truncated (ICR) reverse chains driven by an
//     ε̂ callback (EpsFunc) with common random numbers (CommonNoise), plus the lower-median
//     aggregation over samples used by CSDI. The default ForwardPath coupling puts the noised
//     starts of all truncation steps of one (row, sample) on one forward-noising path, which
//     makes displacement curves over t* far smoother than reusing one start ε (FixedStart,
//     the literal reading of csdi_icr.md §2.5); each single run has the specified law either way.
//   - A Gaussian ground truth: the Bayes-optimal ε-predictor for a conditional law N(m, S),
//     the exact affine propagation of the oracle sampler's mean, variance and y-gain, the ICR
//     shrinkage weight w_t and the Bayes ε-loss, against which the sampler and trained models
//     are tested.
//   - Selection of the truncation step t* from a displacement curve (the "Hessian of the
//     displacement" of the ICR preprint): Select.
//
// The specification is /work/shared/methods/csdi_icr.md (§1.2, §1.3, §1.5, §2, §4); the
// comments cite its sections. Programmer errors (wrong lengths, steps out of range) panic;
// invalid user configuration and data-dependent numerical trouble return errors.
package diffusion
