// Package csdi owns the CSDI diffusion model for tabular data and input consistency
// regularization (ICR) with it: the network, its training, the ICR sampler, the truncation
// step selection, the cv.Regularizer that evaluate runs inside its folds, and the csdi node
// kind. The specification is /work/shared/methods/csdi_icr.md (§1 CSDI, §2 ICR, §3 the
// checks, §4 the Gaussian ground truth); comments cite its sections.
//
// # Model
//
// The network is CSDI's ε_θ (Tashiro et al. 2021) in the tabular layout K = number of
// columns, L = 1 (§1.4, §1.7): one token per column, channels last, so every 1×1
// convolution is a Linear. Input channels M_c⊙x_0 and (1−M_c)⊙x_t; ReLU(Conv 2→C); per
// residual block the 128-d diffusion-step embedding (sin/cos table with frequencies
// 10^{4j/63}, two SiLU linears) projected to C and added, one post-norm transformer layer
// over the K columns (GELU, feed-forward width FFN, dropout), Conv C→2C plus the side
// projection, gate σ(·)⊙tanh(·), Conv C→2C split into residual ((x+res)/√2) and skip;
// output Conv C→1(ReLU(Conv C→C(Σ skip/√layers))) with the last weight zero-initialized.
// The side information is a learned 16-d feature embedding and M_c (17 channels): CSDI's
// time embedding of the single time point is a constant and is dropped. PyTorch's
// initializations throughout. Training (Train) draws batches by epochs of shuffled rows, a
// step t ~ U{0..T−1} per row, ε ~ N(0, I), conditional masks ("mix": target-only with
// probability ½, otherwise CSDI's random strategy), the masked ε-loss normalized by the
// batch's target count, Adam with L2 weight decay 1e-6 and the learning rate ×0.1 after 75%
// and 90% of the steps. Columns are z-scored on the training rows (population SD).
//
// # Conditioning on the noise level
//
// CSDI conditions on the step index, so a trained model belongs to its schedule. With
// Conditioning = "noise_level" the network instead sees ℓ = log(ᾱ/(1−ᾱ)) through smooth
// Fourier features and trains on ℓ ~ U(NoiseRange); it then denoises any schedule whose
// steps stay in that range, and the trained model is cached independently of the schedule:
// one model per fold serves every schedule of a study. The step conditioning stays the
// default, as the faithful one.
//
// # ICR
//
// Regularize noises the noised columns of each row to step t* (x_{t*} = √ᾱ y + √(1−ᾱ) ε),
// runs the DDPM reverse chain t*, …, 0 with the network conditioned on the other columns
// (stdlib/diffusion's Truncated with common random numbers) and returns the lower median of
// S chains (§2.3). SelectTStar computes the displacement curve D(t) on a grid with common
// random numbers — from the ICR chains run from every grid step (§2.5), or from one-step
// denoised estimates, which have the same expectation for a Gaussian posterior at a
// twentieth of the cost — and picks t* as the argmax of its second difference
// (diffusion.Select). The sampler evaluates the network with a specialised pass
// (fast.go) that shares the first block's per-row work among samples and computes the last
// block only at the noised columns; it equals the plain forward pass to rounding.
//
// # Node and evaluation
//
// The csdi node trains on all rows of its table (memoized: Context.Memo keyed by the
// training configuration, the seed, the data and — under step conditioning only — the
// schedule), selects or takes t*, and regularizes all rows. Its value (Result) is the table
// with the noised columns replaced, usable by every table consumer, plus what evaluate needs
// to redo the regularization inside its folds (Result.Regularizer returns a Regularizer,
// which memoizes each fold's training, selection and regularized values the same way).
//
// # Defaults
//
// CSDI's 64 channels, 4 layers and 8 heads cost about 8× the default per token; the
// defaults (16 channels, 2 layers, 2 heads, FFN 64, 800 steps, 16 samples, t* from the
// ICR chains as §2.5 specifies) are sized for tables of a few dozen rows on 2 cores. The
// one-step curve (t_star_method = "one_step") is the documented option for
// cross-validation at scale, as noise-level conditioning is for schedules. Two layers is the minimum that works: the side
// information, the only column identity, enters each block after its transformer, so a
// one-block network cannot attend by column (its Gaussian test fails). NOTES.md has the
// measurements.
package csdi
