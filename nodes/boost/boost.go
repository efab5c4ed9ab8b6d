package boost

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/ml"
)

// kRtEps is xgboost's smallest loss change that makes a split (a float32 constant).
const kRtEps float32 = 1e-6

// Regressor is an unfitted booster. It is safe for concurrent use: every Fit works on
// its own memory.
type Regressor struct {
	cfg Config
}

// New returns a booster with configuration c, or the error of c.Validate.
func New(c Config) (ml.Regressor, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Regressor{cfg: c}, nil
}

// Config returns the configuration the booster was made with.
func (r *Regressor) Config() Config { return r.cfg }

// Fit implements ml.Regressor; the Predictor it returns is a *Model.
func (r *Regressor) Fit(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (ml.Predictor, error) {
	m, err := r.FitModel(ctx, X, y, rng)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// FitModel fits the booster to (X, y). X and y are cast to float32 first, as xgboost
// does; a value that is not finite in float32 is an error naming its row and column.
// rng is used only when Subsample or ColsampleBytree is below 1, and may then not be nil.
// FitModel panics if len(y) differs from the number of rows of X. It returns ctx.Err()
// when ctx is cancelled between two trees.
func (r *Regressor) FitModel(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (*Model, error) {
	n, d := X.Dims()
	if len(y) != n {
		panic(fmt.Sprintf("boost: len(y) = %d, but X has %d rows", len(y), n))
	}
	c := r.cfg
	if (c.Subsample < 1 || c.ColsampleBytree < 1) && rng == nil {
		panic("boost: subsample or colsample_bytree < 1 needs a random stream, but rng is nil")
	}
	t, err := newTrainer(c, X, y)
	if err != nil {
		return nil, err
	}
	base, isMean, _ := parseBaseScore(c.BaseScore) // validated by New
	if isMean {
		// xgboost ≥ 2.0 fits the intercept as one unregularized Newton step from 0:
		// for squared error, the float64 mean of the float32 labels, stored as float32.
		var s float64
		for _, v := range t.y {
			s += float64(v)
		}
		base = float32(s / float64(n))
	}
	m := &Model{
		nFeat: d,
		base:  base,
		cfg:   c,
		trees: make([]int32, 0, c.NEstimators),
		// Depth-3 trees have at most 15 nodes; deeper ones grow the slice as needed.
		nodes: make([]node, 0, c.NEstimators*min(t.maxTreeNodes(), 15)),
	}
	for i := range t.pred {
		t.pred[i] = base
	}
	for it := 0; it < c.NEstimators; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i, p := range t.pred {
			t.grad[i] = p - t.y[i]
		}
		t.sampleFeatures(rng)
		t.sampleRows(rng)
		t.grow()
		if t.gamma > 0 {
			prune(t.tree, 0, t.gamma, t.eta)
		}
		// Update the training margins by walking the finished (pruned) tree.
		for i := range t.pred {
			nd := int32(0)
			for t.tree[nd].feat >= 0 {
				nn := &t.tree[nd]
				if t.cols[int(nn.feat)*n+i] < nn.thr {
					nd = nn.left
				} else {
					nd = nn.left + 1
				}
			}
			t.pred[i] += t.tree[nd].value
		}
		m.trees = append(m.trees, int32(len(m.nodes)))
		m.nodes = append(m.nodes, t.tree...)
	}
	return m, nil
}

// node is one node of a tree. Children are allocated in pairs, as in xgboost's
// RegTree::ExpandNode, so the right child of a split is always left+1; node ids
// therefore equal xgboost's, which keeps dumps comparable.
type node struct {
	feat    int32   // split feature, or -1 for a leaf
	left    int32   // id of the left child within its tree
	parent  int32   // id of the parent, -1 for the root
	thr     float32 // rows with x < thr go left
	value   float32 // leaf value, η·weight
	gain    float32 // loss_chg of the split (xgboost's "gain")
	cover   float32 // hessian sum (row count) of the node
	weight  float32 // unshrunk weight −T_α(G)/(H+λ) (xgboost's base_weight)
	deleted bool    // removed by pruning
}

// split is a candidate split, compared with xgboost's SplitEntry::NeedReplace.
type split struct {
	loss float32
	feat int32
	thr  float32
}

// needReplace is SplitEntry::NeedReplace of xgboost 1.7: a lower feature index wins
// ties; an infinite loss_chg (λ = 0 with an empty side) never wins.
func (b *split) needReplace(loss float32, feat int32) bool {
	if math.IsInf(float64(loss), 0) {
		return false
	}
	if b.feat <= feat {
		return loss > b.loss
	}
	return !(b.loss > loss)
}

// trainer holds one fit's data and scratch space, so that the tree loop does not
// allocate once the first tree has sized the per-level buffers.
type trainer struct {
	n, d int
	// Parameters as xgboost stores them (float32), widened where xgboost widens them.
	eta, gamma, kmcw      float32
	lambda, alpha, mcw    float64
	subsample, colsample  float32
	maxDepth, featPerTree int

	cols []float32 // column-major float32 copy of X: cols[f*n+i]
	sidx []int32   // per feature, row indices sorted by value ascending: sidx[f*n+k]
	sval []float32 // the matching values: sval[f*n+k] = cols[f*n+sidx[f*n+k]]
	y    []float32
	pred []float32 // current margins of the training rows
	grad []float32 // g = ŷ − y; h = 1 for every row in the tree

	active []bool  // rows drawn for the current tree
	pos    []int32 // slot of the open node holding each row, −1 if none
	feats  []int32 // features offered to the current tree, ascending
	allF   []int32 // 0..d−1, shuffled for colsample

	tree []node // the tree being grown

	// Per-level arrays, indexed by slot (position of the node in the level's queue).
	slots, next       []int32
	nodeG, nodeH      []float64
	rootGain, weights []float32
	accG, accH        []float64
	last              []float32
	best              []split
	child             []int32 // slot of the left child in next, −1 for a new leaf
}

func newTrainer(c Config, X *mat.Dense, y []float64) (*trainer, error) {
	n, d := X.Dims()
	t := &trainer{
		n: n, d: d,
		eta:       float32(c.LearningRate),
		gamma:     float32(c.Gamma),
		kmcw:      float32(c.MinChildWeight),
		lambda:    float64(float32(c.Lambda)),
		alpha:     float64(float32(c.Alpha)),
		mcw:       float64(float32(c.MinChildWeight)),
		subsample: float32(c.Subsample),
		colsample: float32(c.ColsampleBytree),
		maxDepth:  c.MaxDepth,
		cols:      make([]float32, n*d),
		sidx:      make([]int32, n*d),
		sval:      make([]float32, n*d),
		y:         make([]float32, n),
		pred:      make([]float32, n),
		grad:      make([]float32, n),
		active:    make([]bool, n),
		pos:       make([]int32, n),
		allF:      make([]int32, d),
	}
	// xgboost's ColumnSampler: n = max(1, int(colsample·d)) in float32.
	t.featPerTree = max(1, int(t.colsample*float32(d)))
	for i, v := range y {
		f := float32(v)
		if math.IsNaN(v) || math.IsInf(float64(f), 0) {
			return nil, fmt.Errorf("boost: target y[%d] = %v is not a finite float32; remove or impute the row before boosting", i, v)
		}
		t.y[i] = f
	}
	raw := X.RawMatrix()
	for i := 0; i < n; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+d]
		for j, v := range row {
			f := float32(v)
			if math.IsNaN(v) || math.IsInf(float64(f), 0) {
				return nil, fmt.Errorf("boost: feature %d of row %d is %v, not a finite float32; boosting needs complete numeric data", j, i, v)
			}
			t.cols[j*n+i] = f
		}
	}
	// Sort each feature once per fit: keys map float32 order to uint32 order, with the
	// row index in the low half so that ties keep row order (deterministic; ties only
	// change the order of float64 sums, never a boundary).
	keys := make([]uint64, n)
	for j := 0; j < d; j++ {
		col := t.cols[j*n : j*n+n]
		for i, v := range col {
			keys[i] = uint64(orderKey(v))<<32 | uint64(i)
		}
		slices.Sort(keys)
		for k, key := range keys {
			i := int32(uint32(key))
			t.sidx[j*n+k] = i
			t.sval[j*n+k] = col[i]
		}
	}
	for j := range t.allF {
		t.allF[j] = int32(j)
	}
	t.feats = make([]int32, 0, d)
	t.tree = make([]node, 0, t.maxTreeNodes())
	return t, nil
}

// orderKey maps a float32 to a uint32 with the same order (−0 sorts just before +0).
func orderKey(v float32) uint32 {
	b := math.Float32bits(v)
	if b>>31 != 0 {
		return ^b
	}
	return b | 1<<31
}

// maxTreeNodes bounds the node count of one tree: 2^(depth+1)−1, and 2n−1 for n rows
// unless min_child_weight ≤ 0 allows empty children.
func (t *trainer) maxTreeNodes() int {
	full := math.MaxInt32
	if t.maxDepth < 30 {
		full = 1<<(t.maxDepth+1) - 1
	}
	if t.mcw > 0 {
		return min(full, 2*t.n-1)
	}
	return min(full, 1<<12)
}

// sampleFeatures picks the tree's feature set (xgboost's colsample_bytree): a uniform
// subset of featPerTree features, in ascending order.
func (t *trainer) sampleFeatures(rng *rand.Rand) {
	t.feats = t.feats[:0]
	if t.colsample >= 1 {
		t.feats = append(t.feats, t.allF...)
		return
	}
	for j := range t.allF {
		t.allF[j] = int32(j)
	}
	rng.Shuffle(len(t.allF), func(a, b int) { t.allF[a], t.allF[b] = t.allF[b], t.allF[a] })
	t.feats = append(t.feats, t.allF[:t.featPerTree]...)
	slices.Sort(t.feats)
	for j := range t.allF {
		t.allF[j] = int32(j)
	}
}

// sampleRows draws the tree's rows (xgboost's subsample for the exact method): each
// row independently with probability subsample.
func (t *trainer) sampleRows(rng *rand.Rand) {
	if t.subsample >= 1 {
		for i := range t.active {
			t.active[i] = true
		}
		return
	}
	p := float64(t.subsample)
	for i := range t.active {
		t.active[i] = rng.Float64() < p
	}
}

// ensureSlots sizes the per-level arrays for m slots.
func (t *trainer) ensureSlots(m int) {
	if cap(t.nodeG) >= m {
		return
	}
	c := max(m, 2*cap(t.nodeG), 8)
	t.nodeG = make([]float64, c)
	t.nodeH = make([]float64, c)
	t.rootGain = make([]float32, c)
	t.weights = make([]float32, c)
	t.accG = make([]float64, c)
	t.accH = make([]float64, c)
	t.last = make([]float32, c)
	t.best = make([]split, c)
	t.child = make([]int32, c)
}

// childGain is TreeEvaluator::CalcGainGivenWeight of xgboost 1.7 with no constraint:
// float32(T_α(G)²) / float32(H+λ), or 0 for an empty node.
func (t *trainer) childGain(G, H float64) float32 {
	if H <= 0 {
		return 0
	}
	G = thresholdL1(G, t.alpha)
	return float32(G*G) / float32(H+t.lambda)
}

// weight is xgboost's CalcWeight: −T_α(G)/(H+λ), or 0 when H < min_child_weight.
func (t *trainer) weight(G, H float64) float32 {
	if H < t.mcw || H <= 0 {
		return 0
	}
	return float32(-thresholdL1(G, t.alpha) / (H + t.lambda))
}

// thresholdL1 is xgboost's ThresholdL1, the soft-threshold of the gradient sum.
func thresholdL1(w, alpha float64) float64 {
	if w > alpha {
		return w - alpha
	}
	if w < -alpha {
		return w + alpha
	}
	return 0
}

// statSlots computes G, H, weight and root gain of the first m slots from the rows'
// positions, summing in row order as xgboost's InitNewNode does.
func (t *trainer) statSlots(m int) {
	G, H := t.nodeG[:m], t.nodeH[:m]
	for s := range G {
		G[s], H[s] = 0, 0
	}
	for i, s := range t.pos {
		if s >= 0 {
			G[s] += float64(t.grad[i])
			H[s]++
		}
	}
	for s := 0; s < m; s++ {
		w := t.weight(G[s], H[s])
		t.weights[s] = w
		t.rootGain[s] = t.childGain(G[s], H[s])
		nd := &t.tree[t.slots[s]]
		nd.weight = w
		nd.cover = float32(H[s])
	}
}

// grow builds one tree level by level (xgboost's ColMaker::Builder::Update).
func (t *trainer) grow() {
	t.tree = append(t.tree[:0], node{feat: -1, parent: -1})
	t.slots = append(t.slots[:0], 0)
	t.ensureSlots(1)
	for i, a := range t.active {
		if a {
			t.pos[i] = 0
		} else {
			t.pos[i] = -1
		}
	}
	t.statSlots(1)
	for depth := 0; depth < t.maxDepth; depth++ {
		m := len(t.slots)
		best := t.best[:m]
		for s := range best {
			best[s] = split{}
		}
		for _, f := range t.feats {
			t.scan(f, m)
		}
		// Split or close every open node, allocating children in queue order.
		t.next = t.next[:0]
		for s := 0; s < m; s++ {
			id := t.slots[s]
			b := best[s]
			if b.loss > kRtEps {
				l := int32(len(t.tree))
				t.tree = append(t.tree, node{feat: -1, parent: id}, node{feat: -1, parent: id})
				nd := &t.tree[id]
				nd.feat, nd.thr, nd.gain, nd.left = b.feat, b.thr, b.loss, l
				t.child[s] = int32(len(t.next))
				t.next = append(t.next, l, l+1)
			} else {
				t.tree[id].value = t.weights[s] * t.eta
				t.child[s] = -1
			}
		}
		if len(t.next) == 0 {
			return
		}
		// Move the rows of split nodes to their children.
		n := t.n
		for i, s := range t.pos {
			if s < 0 {
				continue
			}
			c := t.child[s]
			if c < 0 {
				t.pos[i] = -1
				continue
			}
			nd := &t.tree[t.slots[s]]
			if t.cols[int(nd.feat)*n+i] >= nd.thr {
				c++
			}
			t.pos[i] = c
		}
		t.slots, t.next = t.next, t.slots
		t.ensureSlots(len(t.slots))
		t.statSlots(len(t.slots))
	}
	// Nodes still open at max_depth become leaves.
	for s, id := range t.slots {
		t.tree[id].value = t.weights[s] * t.eta
	}
}

// scan enumerates the splits of feature f for the m open nodes at once, from the
// largest value to the smallest (xgboost's EnumerateSplit with d_step = −1), updating
// each node's best split.
func (t *trainer) scan(f int32, m int) {
	n := t.n
	idx := t.sidx[int(f)*n : int(f)*n+n]
	val := t.sval[int(f)*n : int(f)*n+n]
	accG, accH, last := t.accG[:m], t.accH[:m], t.last[:m]
	nodeG, nodeH, rootGain, best := t.nodeG[:m], t.nodeH[:m], t.rootGain[:m], t.best[:m]
	for s := range accG {
		accG[s], accH[s] = 0, 0
	}
	pos, grad, mcw := t.pos, t.grad, t.mcw
	for k := n - 1; k >= 0; k-- {
		r := idx[k]
		s := pos[r]
		if s < 0 {
			continue
		}
		v := val[k]
		g := float64(grad[r])
		if accH[s] == 0 {
			accG[s], accH[s], last[s] = g, 1, v
			continue
		}
		if v != last[s] && accH[s] >= mcw {
			// The rows scanned so far (values ≥ last) form the right child.
			hl := nodeH[s] - accH[s]
			if hl >= mcw {
				gl := nodeG[s] - accG[s]
				sum := t.childGain(gl, hl) + t.childGain(accG[s], accH[s])
				loss := sum - rootGain[s]
				if best[s].needReplace(loss, f) {
					thr := (v + last[s]) * 0.5
					if thr == v {
						thr = last[s]
					}
					best[s] = split{loss: loss, feat: f, thr: thr}
				}
			}
		}
		accG[s] += g
		accH[s]++
		last[s] = v
	}
	// xgboost then tries sending every scanned row right and the rest (missing values)
	// left. Dense data have no missing values, so this proposes an empty left child: it
	// can pass the weight test only when min_child_weight ≤ 0, and then its loss_chg is
	// 0 up to rounding. Kept for parity with xgboost in that corner.
	if mcw > 0 {
		return
	}
	for s := 0; s < m; s++ {
		if !(accH[s] >= mcw) {
			continue
		}
		hl := nodeH[s] - accH[s]
		if !(hl >= mcw) {
			continue
		}
		gl := nodeG[s] - accG[s]
		sum := t.childGain(gl, hl) + t.childGain(accG[s], accH[s])
		loss := sum - rootGain[s]
		if best[s].needReplace(loss, f) {
			gap := float32(math.Abs(float64(last[s]))) + kRtEps
			best[s] = split{loss: loss, feat: f, thr: last[s] - gap}
		}
	}
}

// prune is xgboost's updater_prune: bottom-up, a split whose two children are leaves
// and whose loss_chg is below gamma becomes a leaf of value η·(its weight).
func prune(tree []node, id int32, gamma, eta float32) {
	nd := &tree[id]
	if nd.feat < 0 {
		return
	}
	l := nd.left
	prune(tree, l, gamma, eta)
	prune(tree, l+1, gamma, eta)
	if tree[l].feat < 0 && tree[l+1].feat < 0 && nd.gain < gamma {
		nd.feat = -1
		nd.value = eta * nd.weight
		tree[l].deleted = true
		tree[l+1].deleted = true
	}
}
