// Package cv owns the repeated K-fold cross-validation that every regressor of ntedsl
// shares, the target-regularization protocols of the ICR studies, and the encoding of
// their results.
//
// # Procedure
//
// For each repetition r = 0..R−1 the N rows are permuted with a random stream derived
// from (Seed, r) and cut into K contiguous folds as sklearn's KFold does (KFold). Every
// model is fitted on the other K−1 folds of every variant and predicts the held-out
// fold, so each row gets one out-of-fold prediction per repetition, and every model and
// variant sees exactly the same folds (paired). Per repetition the N predictions are
// scored (Metrics: R², RMSE, MAE, Pearson r and p; Gaussian NLL and central-interval
// coverage when the model gives variances; the spread of the evaluation targets and
// their relation to the measured ones). Per series the repetitions are summarized by
// their mean, SD (ddof 1) and SE = SD/√R, and the predictions averaged over repetitions
// are scored too (Summary). Paired Wilcoxon tests compare models and series (Test).
//
// # Random streams
//
// Every random stream is a PCG generator seeded from the SHA-256 of the Seed and a
// purpose path, never from scheduling order, so results are identical for any Runner:
//
//	folds of repetition r                 (Seed, "folds", r)
//	model fit, repetition r, fold f       (Seed, "fit", model key, r, f)
//	A: regularizer fit / apply            (Seed, "reg-fit", r, f), ("reg-apply-train", r, f), ("reg-apply-test", r, f)
//	B: regularizer fit / apply            (Seed, "reg-fit-all"), (Seed, "reg-apply-all")
//	shrink control: folds / fit of fold f (Seed, "shrink-folds"), (Seed, "shrink-fit", f)
//
// Model streams deliberately omit the variant and protocol, and regularizer streams the
// variant: paired arms share their random numbers (common random numbers), so a paired
// difference between two variants reflects their data, not a different initialization
// of the network or different diffusion noise.
//
// # Protocols
//
// A variant with a Regularizer can be run under several protocols (see Protocol): A,
// honest, regularizing only the training targets of each fold; B, the preprint's,
// regularizing all targets before CV; and two controls run through B, rescale-only and
// cheap shrinkage toward a ridge or kNN prediction. Each protocol's predictions are
// scored against one or two kinds of evaluation targets; each pairing is an arm with its
// own rows, labelled by Arm and Eval, and only arms with Eval "measured" are comparable.
//
// The Regularizer sees copies of the rows it may use and nothing else, so leakage of
// held-out targets is impossible by construction under A.
package cv
