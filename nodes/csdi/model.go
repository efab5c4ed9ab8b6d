package csdi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
	"github.com/ntedsl/ntedsl/stdlib/diffusion"
)

// Arch is the size of the network. CSDI's configuration (csdi_icr.md §1.6) is 64 channels,
// 4 layers, 8 heads, feed-forward width 64 and dropout 0.1.
type Arch struct {
	Channels int     `json:"channels"`
	Layers   int     `json:"layers"`
	Heads    int     `json:"heads"`
	FFN      int     `json:"ffn"`
	Dropout  float64 `json:"dropout"`
}

// Mask strategies for training (csdi_icr.md §1.1, §2.3).
const (
	// MasksMix is "mix-ICR": each sample is target-only with probability 0.5, otherwise
	// CSDI-random. Target-only alone would waste the joint structure of a small table, and
	// random alone trains the y | x case ICR needs only rarely.
	MasksMix = "mix"
	// MasksRandom is CSDI's "random" strategy: r ~ U(0,1), round(r·K) random targets.
	MasksRandom = "random"
	// MasksTarget makes every sample target-only: the noised columns are the targets.
	MasksTarget = "target"
)

// Conditionings of the network on the diffusion time.
const (
	// CondStep is CSDI's: the network sees the step index t through the 128-d step table.
	// A trained model then belongs to its schedule.
	CondStep = "step"
	// CondNoiseLevel feeds the log-SNR ℓ_t = log(ᾱ_t/(1−ᾱ_t)) through smooth Fourier
	// features (noiseTable) instead, and trains on ℓ drawn uniformly from a fixed range. One
	// trained model then serves every schedule whose steps stay within that range.
	CondNoiseLevel = "noise_level"
)

// TrainConfig is everything besides the data, the noised columns, the schedule and the seed
// that determines a trained model. Its JSON encoding is part of the model's cache key.
type TrainConfig struct {
	Arch
	Steps       int     `json:"steps"` // Adam steps
	Batch       int     `json:"batch"`
	LR          float64 `json:"lr"`
	WeightDecay float64 `json:"weight_decay"`
	Masks       string  `json:"masks"`
	// Conditioning is CondStep or CondNoiseLevel; NoiseRange is the log-SNR range
	// [lo, hi] trained on under CondNoiseLevel (ignored, and zeroed in the key, otherwise).
	Conditioning string     `json:"conditioning"`
	NoiseRange   [2]float64 `json:"noise_range"`
}

// Validate reports an unusable configuration.
func (c *TrainConfig) Validate() error {
	switch {
	case c.Channels < 1 || c.Layers < 1 || c.Heads < 1 || c.FFN < 1:
		return fmt.Errorf("channels, layers, heads and ffn must be positive (have %d, %d, %d, %d)", c.Channels, c.Layers, c.Heads, c.FFN)
	case c.Channels%c.Heads != 0:
		return fmt.Errorf("%d heads do not divide %d channels", c.Heads, c.Channels)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("dropout %v is outside [0, 1)", c.Dropout)
	case c.Steps < 1 || c.Batch < 1:
		return fmt.Errorf("steps and batch must be positive (have %d, %d)", c.Steps, c.Batch)
	case !(c.LR > 0) || !(c.WeightDecay >= 0):
		return fmt.Errorf("lr must be positive and weight_decay non-negative (have %v, %v)", c.LR, c.WeightDecay)
	}
	switch c.Masks {
	case MasksMix, MasksRandom, MasksTarget:
	default:
		return fmt.Errorf("unknown mask strategy %q", c.Masks)
	}
	switch c.Conditioning {
	case CondStep:
	case CondNoiseLevel:
		if !(c.NoiseRange[0] < c.NoiseRange[1]) || math.IsInf(c.NoiseRange[0], 0) || math.IsInf(c.NoiseRange[1], 0) {
			return fmt.Errorf("the noise range [%v, %v] must be finite and increasing", c.NoiseRange[0], c.NoiseRange[1])
		}
	default:
		return fmt.Errorf("unknown conditioning %q", c.Conditioning)
	}
	return nil
}

// canonical returns the configuration's JSON with the fields that do not affect training
// normalized (the noise range under step conditioning).
func (c TrainConfig) canonical() []byte {
	if c.Conditioning != CondNoiseLevel {
		c.NoiseRange = [2]float64{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return b
}

// Model is a trained CSDI network with the standardization of its training rows.
type Model struct {
	Config TrainConfig
	// Columns names the K columns in model order (for messages and reports).
	Columns []string
	// Noised are the column indices that target-only masks make targets, ascending.
	Noised []int
	// Mean and SD standardize each column: z = (x − Mean)/SD, with the training rows' mean
	// and population SD (1 for a constant column, which then carries no information).
	Mean, SD []float64
	// Betas is the schedule trained on under step conditioning; nil under noise-level
	// conditioning.
	Betas []float64
	// Loss is the training loss averaged over 50 equal segments of the training run
	// (fewer for short runs), in order.
	Loss []float64

	net *network
	// reference makes ICR use the network's plain forward pass (network.forward on every
	// token of every sample) instead of the fast sampler; the two agree to rounding
	// (TestFastDenoiserMatchesForward). For tests and benchmarks.
	reference bool
	// oracle, when set, replaces the network by another predictor (tests: the analytic
	// Bayes-optimal ε*), run through the same input-building path.
	oracle func(s *diffusion.Schedule, mask []float64) predictor
}

// K returns the number of columns.
func (m *Model) K() int { return len(m.Mean) }

// FinalLoss is the mean training loss of the last segment.
func (m *Model) FinalLoss() float64 { return m.Loss[len(m.Loss)-1] }

// seeded returns an independent PCG stream for one purpose of a training or sampling run.
func seeded(seed uint64, purpose string) *rand.Rand {
	h := sha256.Sum256([]byte("ntedsl/csdi/" + purpose))
	return rand.New(rand.NewPCG(seed, binary.LittleEndian.Uint64(h[:8])))
}

// Standardize returns the training statistics of the columns of X: mean and population SD
// (1 where the SD is 0).
func standardization(X *mat.Dense) (mean, sd []float64) {
	n, k := X.Dims()
	mean, sd = make([]float64, k), make([]float64, k)
	for j := 0; j < k; j++ {
		var s float64
		for i := 0; i < n; i++ {
			s += X.At(i, j)
		}
		mu := s / float64(n)
		var ss float64
		for i := 0; i < n; i++ {
			d := X.At(i, j) - mu
			ss += d * d
		}
		mean[j], sd[j] = mu, math.Sqrt(ss/float64(n))
		if !(sd[j] > 0) {
			sd[j] = 1
		}
	}
	return mean, sd
}

// standardize returns (X − Mean)/SD row by row.
func (m *Model) standardize(X *mat.Dense) *mat.Dense {
	n, k := X.Dims()
	if k != m.K() {
		panic(fmt.Sprintf("csdi: %d columns given to a model of %d", k, m.K()))
	}
	Z := mat.NewDense(n, k, nil)
	for i := 0; i < n; i++ {
		row, zr := X.RawRowView(i), Z.RawRowView(i)
		for j, v := range row {
			zr[j] = (v - m.Mean[j]) / m.SD[j]
		}
	}
	return Z
}

// DataError reports data a model cannot be trained on or applied to.
type DataError struct{ Msg string }

func (e *DataError) Error() string { return e.Msg }

func checkFinite(X *mat.Dense, columns []string) error {
	n, k := X.Dims()
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			if v := X.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				name := fmt.Sprintf("column %d", j)
				if j < len(columns) {
					name = fmt.Sprintf("column %q", columns[j])
				}
				return &DataError{fmt.Sprintf("row %d has no finite value in %s (%v)", i, name, v)}
			}
		}
	}
	return nil
}

// trainings counts Train calls, so that tests can check that memoized trainings are not
// redone.
var trainings atomic.Int64

// TrainOptions are the inputs of Train besides the data.
type TrainOptions struct {
	Config  TrainConfig
	Columns []string // names of the columns of X (optional)
	Noised  []int    // column indices noised by ICR (the targets of target-only masks)
	// Schedule is the noise schedule trained on; required under step conditioning and
	// unused under noise-level conditioning.
	Schedule *diffusion.Schedule
	Seed     uint64
	// Progress, if set, is called now and then with the steps done and the total.
	Progress func(done, total int)
}

// Train standardizes the columns of X on its rows and trains a CSDI network on them
// (csdi_icr.md §1.3, §2.3): per step a batch of rows (epochs of shuffled rows, the last
// batch of an epoch possibly smaller, as PyTorch's DataLoader), a step t ~ U{0..T−1} (or a
// log-SNR ℓ ~ U(range)) and noise ε ~ N(0, I) per row, conditional masks by the configured
// strategy, the masked ε-loss normalized by the batch's target count, and Adam (PyTorch
// semantics, L2 weight decay) with the learning rate multiplied by 0.1 after ⌊0.75·steps⌋
// and ⌊0.9·steps⌋ steps (CSDI's MultiStepLR milestones at 75% and 90% of training).
//
// Every random number comes from streams derived from opt.Seed (initialization, batches,
// masks, noise, dropout), so a seed fixes the model bit for bit on one kind of machine.
// It returns ctx.Err() when cancelled, a *DataError for data it cannot use, and panics on an
// invalid configuration or noised index (programming errors; validate first).
func Train(ctx context.Context, X *mat.Dense, opt TrainOptions) (*Model, error) {
	cfg := opt.Config
	if err := cfg.Validate(); err != nil {
		panic("csdi: Train: " + err.Error())
	}
	trainings.Add(1)
	n, k := X.Dims()
	if k < 2 {
		return nil, &DataError{fmt.Sprintf("the model needs at least 2 columns (a noised one and one to condition on); it has %d", k)}
	}
	if n < 2 {
		return nil, &DataError{fmt.Sprintf("the model needs at least 2 rows to train on; it has %d", n)}
	}
	if len(opt.Noised) == 0 || len(opt.Noised) >= k {
		return nil, &DataError{fmt.Sprintf("%d of %d columns are noised; at least one must be noised and one conditioned on", len(opt.Noised), k)}
	}
	noised := slices.Clone(opt.Noised)
	slices.Sort(noised)
	for i, j := range noised {
		if j < 0 || j >= k || (i > 0 && j == noised[i-1]) {
			panic(fmt.Sprintf("csdi: Train: noised column index %d invalid for %d columns", j, k))
		}
	}
	if err := checkFinite(X, opt.Columns); err != nil {
		return nil, err
	}
	var sched *diffusion.Schedule
	if cfg.Conditioning == CondStep {
		if opt.Schedule == nil {
			panic("csdi: Train: step conditioning needs a schedule")
		}
		sched = opt.Schedule
	}
	m := &Model{Config: cfg, Columns: slices.Clone(opt.Columns), Noised: noised}
	m.Mean, m.SD = standardization(X)
	if sched != nil {
		m.Betas = sched.Betas(nil)
	}
	m.net = newNetwork(cfg.Arch, k, seeded(opt.Seed, "init"))
	Z := m.standardize(X)

	rBatch, rMask, rNoise, rDrop := seeded(opt.Seed, "batch"), seeded(opt.Seed, "mask"), seeded(opt.Seed, "noise"), seeded(opt.Seed, "dropout")
	var drop *rand.Rand
	if cfg.Dropout > 0 {
		drop = rDrop
	}
	ps := m.net.ps
	adam := ad.NewAdam(ps.Vars(), cfg.LR)
	adam.WeightDecay = cfg.WeightDecay
	milestones := []int{int(0.75 * float64(cfg.Steps)), int(0.9 * float64(cfg.Steps))}
	tp := ad.NewTape()
	bmax := min(cfg.Batch, n)
	input := make([]float64, bmax*k*2)
	maskBuf := make([]float64, bmax*k)
	tgtBuf := make([]float64, bmax*k)
	epsBuf := make([]float64, bmax*k)
	tableBuf := make([]float64, bmax*embDim)
	cm := make([]float64, k)
	var perm []int
	pos := n
	segs := min(50, cfg.Steps)
	m.Loss = make([]float64, segs)
	segCount := make([]int, segs)
	for step := 0; step < cfg.Steps; step++ {
		if step%20 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if opt.Progress != nil {
				opt.Progress(step, cfg.Steps)
			}
		}
		if pos >= n {
			perm = rBatch.Perm(n)
			pos = 0
		}
		b := min(cfg.Batch, n-pos)
		rows := perm[pos : pos+b]
		pos += b
		for s, r := range rows {
			x0 := Z.RawRowView(r)
			var abar float64
			tab := tableBuf[s*embDim : (s+1)*embDim]
			if sched != nil {
				t := rNoise.IntN(sched.T())
				abar = sched.AlphaBar(t)
				stepTable(tab, t)
			} else {
				l := cfg.NoiseRange[0] + (cfg.NoiseRange[1]-cfg.NoiseRange[0])*rNoise.Float64()
				abar = 1 / (1 + math.Exp(-l))
				noiseTable(tab, l)
			}
			sa, sn := math.Sqrt(abar), math.Sqrt(1-abar)
			drawMask(cm, noised, cfg.Masks, rMask)
			for j := 0; j < k; j++ {
				e := rNoise.NormFloat64()
				q := s*k + j
				epsBuf[q] = e
				xt := sa*x0[j] + sn*e
				input[2*q] = cm[j] * x0[j]
				input[2*q+1] = (1 - cm[j]) * xt
				maskBuf[q] = cm[j]
				tgtBuf[q] = 1 - cm[j] // every entry is observed
			}
		}
		tp.Reset()
		ps.ZeroGrad()
		in := ad.Const(input[:b*k*2], b, k, 2)
		side := m.net.sideTerms(tp, ad.Const(maskBuf[:b*k], b, k, 1))
		emb := m.net.stepEmbedding(tp, ad.Const(tableBuf[:b*embDim], b, embDim))
		pred := m.net.forward(tp, in, side, emb, drop)
		loss := tp.MaskedMSE(pred, ad.Const(epsBuf[:b*k], b, k), tgtBuf[:b*k])
		tp.Backward(loss)
		adam.LR = ad.MultiStepLR(cfg.LR, 0.1, milestones, step)
		adam.Step()
		lv := loss.Value()
		if math.IsNaN(lv) || math.IsInf(lv, 0) {
			return nil, &DataError{fmt.Sprintf("the training loss became %v at step %d; lower lr", lv, step)}
		}
		seg := step * segs / cfg.Steps
		m.Loss[seg] += lv
		segCount[seg]++
	}
	for i := range m.Loss {
		m.Loss[i] /= float64(segCount[i])
	}
	if opt.Progress != nil {
		opt.Progress(cfg.Steps, cfg.Steps)
	}
	return m, nil
}

// drawMask sets cm (length K) to a conditional mask (1 = condition, 0 = target) for a
// fully observed row under strategy (csdi_icr.md §1.1, §2.3).
func drawMask(cm []float64, noised []int, strategy string, rng *rand.Rand) {
	if strategy == MasksTarget || (strategy == MasksMix && rng.Float64() < 0.5) {
		for j := range cm {
			cm[j] = 1
		}
		for _, j := range noised {
			cm[j] = 0
		}
		return
	}
	// CSDI's get_randmask: r ~ U(0,1), round(r·|M_obs|) targets chosen uniformly (the code
	// takes the top-k of uniform noise; a uniformly random subset has the same law). Python's
	// round is half-to-even.
	k := len(cm)
	nt := int(math.RoundToEven(rng.Float64() * float64(k)))
	for j := range cm {
		cm[j] = 1
	}
	// Partial Fisher–Yates: the first nt entries of a random permutation become targets.
	idx := make([]int, k)
	for j := range idx {
		idx[j] = j
	}
	for j := 0; j < nt; j++ {
		r := j + rng.IntN(k-j)
		idx[j], idx[r] = idx[r], idx[j]
		cm[idx[j]] = 0
	}
}

const modelMagic = "ntedsl-csdi-model/1\n"

// MarshalBinary encodes the model deterministically: configuration, columns, noised indices,
// standardization, schedule, loss curve and the parameters' IEEE-754 bits.
func (m *Model) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(modelMagic)
	putU := func(u uint64) { b.Write(binary.AppendUvarint(nil, u)) }
	putS := func(s []byte) { putU(uint64(len(s))); b.Write(s) }
	putF := func(xs []float64) {
		putU(uint64(len(xs)))
		for _, x := range xs {
			b.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(x)))
		}
	}
	putS(m.Config.canonical())
	putU(uint64(len(m.Columns)))
	for _, c := range m.Columns {
		putS([]byte(c))
	}
	putU(uint64(len(m.Noised)))
	for _, j := range m.Noised {
		putU(uint64(j))
	}
	putF(m.Mean)
	putF(m.SD)
	putF(m.Betas)
	putF(m.Loss)
	p, err := m.net.ps.MarshalBinary()
	if err != nil {
		return nil, err
	}
	putS(p)
	return b.Bytes(), nil
}

var errCorrupt = errors.New("csdi: corrupt model encoding")

// DecodeModel is the inverse of MarshalBinary.
func DecodeModel(data []byte) (*Model, error) {
	p, ok := bytes.CutPrefix(data, []byte(modelMagic))
	if !ok {
		return nil, errCorrupt
	}
	getU := func() (uint64, error) {
		u, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, errCorrupt
		}
		p = p[n:]
		return u, nil
	}
	getS := func() ([]byte, error) {
		n, err := getU()
		if err != nil || n > uint64(len(p)) {
			return nil, errCorrupt
		}
		s := p[:n]
		p = p[n:]
		return s, nil
	}
	getF := func() ([]float64, error) {
		n, err := getU()
		if err != nil || 8*n > uint64(len(p)) {
			return nil, errCorrupt
		}
		if n == 0 {
			return nil, nil
		}
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
		}
		p = p[8*n:]
		return xs, nil
	}
	m := &Model{}
	cj, err := getS()
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(cj, &m.Config); err != nil {
		return nil, fmt.Errorf("csdi: model configuration: %w", err)
	}
	if err := m.Config.Validate(); err != nil {
		return nil, fmt.Errorf("csdi: stored model configuration: %w", err)
	}
	nc, err := getU()
	if err != nil || nc > uint64(len(p)) {
		return nil, errCorrupt
	}
	for i := uint64(0); i < nc; i++ {
		s, err := getS()
		if err != nil {
			return nil, err
		}
		m.Columns = append(m.Columns, string(s))
	}
	nn, err := getU()
	if err != nil || nn > uint64(len(p)) {
		return nil, errCorrupt
	}
	for i := uint64(0); i < nn; i++ {
		j, err := getU()
		if err != nil {
			return nil, err
		}
		m.Noised = append(m.Noised, int(j))
	}
	for _, dst := range []*[]float64{&m.Mean, &m.SD, &m.Betas, &m.Loss} {
		if *dst, err = getF(); err != nil {
			return nil, err
		}
	}
	ps, err := getS()
	if err != nil {
		return nil, err
	}
	if len(p) != 0 {
		return nil, errCorrupt
	}
	k := len(m.Mean)
	if k < 2 || len(m.SD) != k || len(m.Loss) == 0 || (len(m.Columns) != 0 && len(m.Columns) != k) {
		return nil, errCorrupt
	}
	for _, j := range m.Noised {
		if j >= k {
			return nil, errCorrupt
		}
	}
	m.net = newNetwork(m.Config.Arch, k, rand.New(rand.NewPCG(0, 0)))
	if err := m.net.ps.UnmarshalBinary(ps); err != nil {
		return nil, err
	}
	return m, nil
}
