package pbp

import (
	"fmt"

	"github.com/ntedsl/ntedsl/stdlib/ml"
)

// Config is the configuration of a PBP regressor. Zero values are not defaults: start from
// DefaultConfig.
type Config struct {
	// Hidden lists the widths of the ReLU hidden layers, input side first. The PBP paper
	// uses one layer of 50 units on the UCI sets; the reference test script uses [50, 50].
	Hidden []int `attr:"hidden" doc:"Hidden layer widths; [50] is the PBP paper's UCI setup, [50, 50] the reference test script's."`
	// Epochs is the number of ADF passes over the training set, each followed by one EP
	// refinement of the prior. The reference recommends 40.
	Epochs int `attr:"epochs" doc:"Passes of assumed density filtering over the (reshuffled) training set, each followed by one EP refinement of the prior."`
	// NormalizeInputs z-scores the inputs with the training mean and population standard
	// deviation (a column with SD 0 is divided by 1), as the reference test scripts do.
	// Turn it off only for inputs that are already on a common scale (binary fingerprints).
	// Targets are always z-scored.
	NormalizeInputs bool `attr:"normalize_inputs" doc:"z-score the inputs on the training rows (population SD) as the reference scripts do; targets are always z-scored."`
}

// DefaultConfig returns the configuration of the PBP paper's UCI experiments: one hidden
// layer of 50 units, 40 epochs, normalized inputs.
func DefaultConfig() Config {
	return Config{Hidden: []int{50}, Epochs: 40, NormalizeInputs: true}
}

// maxWidth bounds a hidden layer's width so that a typo (5000000 for 50) is reported
// instead of exhausting memory: a layer's weights take 16 bytes × width × (fan-in + 1).
const maxWidth = 100000

// Validate reports the first invalid parameter of c, naming it.
func (c Config) Validate() error {
	if len(c.Hidden) == 0 {
		return fmt.Errorf("pbp: hidden must list at least one hidden-layer width (the PBP paper uses [50])")
	}
	for i, w := range c.Hidden {
		if w < 1 || w > maxWidth {
			return fmt.Errorf("pbp: hidden[%d] = %d; a layer width must be between 1 and %d", i, w, maxWidth)
		}
	}
	if c.Epochs < 1 {
		return fmt.Errorf("pbp: epochs = %d; it must be at least 1 (the reference recommends 40)", c.Epochs)
	}
	return nil
}

// Regressor is a PBP configuration; it implements ml.Regressor.
type Regressor struct {
	cfg Config
}

// New validates c and returns a PBP regressor. The configuration is copied.
func New(c Config) (ml.Regressor, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.Hidden = append([]int(nil), c.Hidden...)
	return &Regressor{cfg: c}, nil
}
