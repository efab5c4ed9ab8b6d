// Package daggm owns the Deep Autoencoding Gaussian Mixture Model (DAGMM, Zong et al.,
// ICLR 2018) and the `daggm` node kind built on it: the novelty analysis of the preprint
// (Kireeva & Tsivadze 2024, Fig. 8), which trains one DAGMM on the compounds' table before
// input-consistency regularization and one after, and reports per compound the sample
// energy E(z) and the reconstruction error, binned.
//
// # Model (methods/models.md §5.1, the paper's formulation)
//
//   - Compression network: encoder d → hidden (tanh) → latent (linear), mirror decoder;
//     z = [z_c, relative Euclidean distance ‖x−x'‖/‖x‖, cosine similarity x·x'/(‖x‖‖x'‖)].
//   - Estimation network: D → hidden (tanh, dropout) → K, softmax: the memberships γ̂.
//   - GMM parameters from γ̂ by the EM M-step formulas (biased covariances, /N_k).
//   - Energy E(z) = −log Σ_k φ_k N(z; μ_k, Σ_k), computed as −logsumexp over components of
//     log φ_k − ½‖L_k⁻¹(z−μ_k)‖² − (D/2)log 2π − Σ log diag L_k with L_k = chol(Σ_k + εI).
//   - Loss J = mean‖x−x'‖² + λ₁·mean E + λ₂·Σ_k Σ_j 1/Σ_k,jj, full batch, Adam.
//   - Inference: (φ, μ, Σ) fixed from the whole training set with dropout off.
//
// The reference implementations' quirks listed in §5.2 (danieltan07's |2πΣ|^{1/4}
// normalizer, its no-op log-sum-exp and energy cap, tnakae's 0.5·(1−cos) feature and
// +1e-3 denominators) are not replicated.
//
// The tape-level pieces (GMMParams, Energy, CovDiagPenalty, ReconFeatures) are exported so
// that each is tested on its own; Network assembles them, Fit trains a model on a matrix
// and Model.Score applies it. Every random number comes from the *rand.Rand passed in, so
// a seed fixes a run bit for bit.
package daggm
