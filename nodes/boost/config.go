package boost

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Config holds the booster's hyper-parameters, named after xgboost's.
type Config struct {
	// MaxDepth is the depth of every tree (xgboost max_depth); the root has depth 0.
	MaxDepth int `attr:"max_depth" doc:"Depth of every tree (the root has depth 0)."`
	// LearningRate shrinks every leaf (xgboost eta / learning_rate).
	LearningRate float64 `attr:"learning_rate" doc:"Shrinkage of every leaf (xgboost eta)."`
	// NEstimators is the number of boosting rounds, one tree each.
	NEstimators int `attr:"n_estimators" doc:"Number of boosting rounds, one tree each."`
	// BaseScore is the initial margin: "0.5" (xgboost 1.x), "mean" (the mean of the
	// float32 targets, as xgboost ≥ 2.0 estimates it for squared error), or a number
	// written as text.
	BaseScore string `attr:"base_score" doc:"Initial margin: \"0.5\" (xgboost 1.x, the preprint's likely version), \"mean\" (mean of y, as xgboost ≥ 2.0 estimates it), or a number as text."`
	// Lambda is the L2 penalty on leaf weights (reg_lambda).
	Lambda float64 `attr:"lambda" doc:"L2 penalty on leaf weights (reg_lambda)."`
	// Alpha is the L1 penalty on leaf weights (reg_alpha), applied to G by
	// soft-thresholding in both weights and gains, as xgboost's ThresholdL1.
	Alpha float64 `attr:"alpha" doc:"L1 penalty on leaf weights (reg_alpha)."`
	// Gamma is the minimum loss reduction a split must reach to survive pruning
	// (min_split_loss), compared with xgboost's un-halved loss_chg.
	Gamma float64 `attr:"gamma" doc:"Minimum loss reduction a split must reach to survive pruning (min_split_loss)."`
	// MinChildWeight is the minimum hessian sum (here: row count) of a child.
	MinChildWeight float64 `attr:"min_child_weight" doc:"Minimum hessian sum (for squared error: row count) of a child."`
	// Subsample is the probability that a row takes part in a tree.
	Subsample float64 `attr:"subsample" doc:"Probability that a row takes part in a tree (seeded; only distributional parity with xgboost)."`
	// ColsampleBytree is the fraction of features offered to a tree.
	ColsampleBytree float64 `attr:"colsample_bytree" doc:"Fraction of features offered to a tree (seeded)."`
}

// DefaultConfig returns the preprint's XGBRegressor(max_depth=3, learning_rate=0.1,
// n_estimators=100) as xgboost 1.7 resolves it.
func DefaultConfig() Config {
	return Config{
		MaxDepth:        3,
		LearningRate:    0.1,
		NEstimators:     100,
		BaseScore:       "0.5",
		Lambda:          1,
		Alpha:           0,
		Gamma:           0,
		MinChildWeight:  1,
		Subsample:       1,
		ColsampleBytree: 1,
	}
}

// Validate reports the first parameter that is out of its allowed range. The ranges
// are xgboost's; every real parameter must also be finite in float32, since xgboost
// stores them as float32.
func (c Config) Validate() error {
	if c.MaxDepth < 1 {
		return fmt.Errorf("boost: max_depth = %d is out of range: the exact method needs an integer ≥ 1", c.MaxDepth)
	}
	if c.NEstimators < 1 {
		return fmt.Errorf("boost: n_estimators = %d is out of range: it must be an integer ≥ 1", c.NEstimators)
	}
	nonNeg := []struct {
		name string
		v    float64
	}{
		{"learning_rate", c.LearningRate},
		{"lambda", c.Lambda},
		{"alpha", c.Alpha},
		{"gamma", c.Gamma},
		{"min_child_weight", c.MinChildWeight},
	}
	for _, p := range nonNeg {
		if !finite32(p.v) || p.v < 0 {
			return fmt.Errorf("boost: %s = %v is out of range: it must be a finite number ≥ 0", p.name, p.v)
		}
	}
	frac := []struct {
		name string
		v    float64
	}{
		{"subsample", c.Subsample},
		{"colsample_bytree", c.ColsampleBytree},
	}
	for _, p := range frac {
		// float32(v) > 0 rules out values so small that xgboost would store them as 0.
		if !(p.v > 0 && p.v <= 1 && float32(p.v) > 0) {
			return fmt.Errorf("boost: %s = %v is out of range: it must be in (0, 1]", p.name, p.v)
		}
	}
	if _, _, err := parseBaseScore(c.BaseScore); err != nil {
		return err
	}
	return nil
}

// parseBaseScore returns (value, isMean, error).
func parseBaseScore(s string) (float32, bool, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "mean") {
		return 0, true, nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !finite32(v) {
		return 0, false, fmt.Errorf("boost: base_score = %q is not allowed: use \"0.5\" (xgboost 1.x), \"mean\" (xgboost ≥ 2.0) or a finite number", s)
	}
	return float32(v), false, nil
}

// finite32 reports whether v is finite and stays finite when stored as a float32.
func finite32(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(float64(float32(v)), 0)
}
