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
	if n == 0 {
		return nil, fmt.Errorf("boost: no training rows")
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

// slot is an open node of the level being grown: its sums (xgboost's NodeEntry), its
// rows' segment in the working arrays, and its best split so far.
type slot struct {
	G        float64 // gradient sum, in row order as xgboost's InitNewNode
	N        int32   // row count: the hessian sum, since h = 1
	beg, end int32   // segment of the node's rows in every feature block of cur
	rootGain float32 // float32 G²/(H+λ)
	weight   float32 // −T_α(G)/(H+λ)
	id       int32   // node id in the tree
	child    int32   // slot of the left child in the next level, −1 if none
	best     split
}

// entry is one row in a feature's sorted order: its value, gradient and index.
type entry struct {
	val  float32
	grad float32
	row  int32
}

// trainer holds one fit's data and scratch space, so that the tree loop does not
// allocate once the first tree has sized the per-level buffers.
type trainer struct {
	n, d int
	// Parameters as xgboost stores them (float32), widened where xgboost widens them.
	eta, gamma            float32
	lambda, alpha, mcw    float64
	subsample, colsample  float32
	maxDepth, featPerTree int
	// minN is the smallest row count that meets min_child_weight: with h = 1,
	// H ≥ mcw ⇔ count ≥ ⌈mcw⌉.
	minN int32
	// inv[k] = 1/(k+λ) and rinv[k] = inv[n−k], k = 0..n, to screen split candidates
	// cheaply (see scanSegment).
	inv, rinv []float64

	cols []float32 // column-major float32 copy of X: cols[f*n+i]
	y    []float32
	pred []float32 // current margins of the training rows
	grad []float32 // g = ŷ − y; h = 1 for every row in the tree

	active []bool  // rows drawn for the current tree
	pos    []int32 // slot of the open node holding each row, −1 if none
	rightU []uint8 // 1 if a row goes to the right child at the current level, else 0
	feats  []int32 // features offered to the current tree, ascending
	allF   []int32 // 0..d−1, shuffled for colsample

	// Working arrays: for every feature f, block [f·n, f·n+n) holds the tree's rows in
	// descending order of value (xgboost's scan order), grouped by open node: a node's
	// rows occupy the same segment [beg, end) of every block. base is that layout for
	// all n rows, built once per fit; cur is the current level's layout (base, or one of
	// bufs), and partition writes the next level's into the other buffer.
	base    []entry
	bufs    [2][]entry
	cur     []entry
	ncur    int    // index in bufs of cur, or −1 for base
	lv, lv2 []slot // open nodes of this level and the next, by slot
	tree    []node // the tree being grown
}

func newTrainer(c Config, X *mat.Dense, y []float64) (*trainer, error) {
	n, d := X.Dims()
	t := &trainer{
		n: n, d: d,
		eta:       float32(c.LearningRate),
		gamma:     float32(c.Gamma),
		lambda:    float64(float32(c.Lambda)),
		alpha:     float64(float32(c.Alpha)),
		mcw:       float64(float32(c.MinChildWeight)),
		subsample: float32(c.Subsample),
		colsample: float32(c.ColsampleBytree),
		maxDepth:  c.MaxDepth,
		cols:      make([]float32, n*d),
		y:         make([]float32, n),
		pred:      make([]float32, n),
		grad:      make([]float32, n),
		active:    make([]bool, n),
		pos:       make([]int32, n),
		rightU:    make([]uint8, n),
		allF:      make([]int32, d),
		feats:     make([]int32, 0, d),
		base:      make([]entry, n*d),
		bufs:      [2][]entry{make([]entry, n*d), make([]entry, n*d)},
		inv:       make([]float64, n+1),
		rinv:      make([]float64, n+1),
	}
	t.minN = int32(max(0, math.Ceil(t.mcw)))
	for k := range t.inv {
		t.inv[k] = 1 / (float64(k) + t.lambda)
		t.rinv[n-k] = t.inv[k]
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
	// Sort each feature once per fit, into the base layout (descending): keys map
	// float32 order to uint32 order, with the row index in the low half so that the
	// order of ties is fixed (it only changes the order of float64 sums, never a
	// boundary).
	keys := make([]uint64, n)
	for j := 0; j < d; j++ {
		col := t.cols[j*n : j*n+n]
		for i, v := range col {
			keys[i] = uint64(orderKey(v))<<32 | uint64(i)
		}
		slices.Sort(keys)
		for k, key := range keys {
			i := int32(uint32(key))
			t.base[j*n+n-1-k] = entry{val: col[i], row: i}
		}
	}
	for j := range t.allF {
		t.allF[j] = int32(j)
	}
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
	if t.minN > 0 {
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

// finishSlots completes the level's slots once G and N are summed: weight, root gain,
// and the node's stored weight and cover.
func (t *trainer) finishSlots() {
	for s := range t.lv {
		sl := &t.lv[s]
		H := float64(sl.N)
		sl.weight = t.weight(sl.G, H)
		sl.rootGain = t.childGain(sl.G, H)
		nd := &t.tree[sl.id]
		nd.weight = sl.weight
		nd.cover = float32(H)
	}
}

// grow builds one tree level by level (xgboost's ColMaker::Builder::Update).
func (t *trainer) grow() {
	n := t.n
	t.tree = append(t.tree[:0], node{feat: -1, parent: -1})
	// The root: the tree's rows, in each offered feature's sorted order.
	root := slot{id: 0}
	for i, a := range t.active {
		if a {
			t.pos[i] = 0
			root.G += float64(t.grad[i])
			root.N++
		} else {
			t.pos[i] = -1
		}
	}
	root.end = root.N
	if root.N == int32(n) {
		// Every row takes part: use the fit's base layout with this tree's gradients.
		for _, f := range t.feats {
			blk, grad := t.base[int(f)*n:int(f)*n+n], t.grad
			for k := range blk {
				blk[k].grad = grad[blk[k].row]
			}
		}
		t.cur, t.ncur = t.base, -1
	} else {
		// Subsampled rows: filter the base layout.
		w := t.bufs[0]
		for _, f := range t.feats {
			src, dst := t.base[int(f)*n:int(f)*n+n], w[int(f)*n:int(f)*n+n]
			k := 0
			for _, e := range src {
				if t.active[e.row] {
					dst[k] = entry{val: e.val, grad: t.grad[e.row], row: e.row}
					k++
				}
			}
		}
		t.cur, t.ncur = w, 0
	}
	t.lv = append(t.lv[:0], root)
	t.finishSlots()
	for depth := 0; depth < t.maxDepth; depth++ {
		for s := range t.lv {
			sl := &t.lv[s]
			for _, f := range t.feats {
				o := int(f) * n
				t.scanSegment(sl, f, t.cur[o+int(sl.beg):o+int(sl.end)])
			}
		}
		// Split or close every open node, allocating children in queue order.
		t.lv2 = t.lv2[:0]
		for s := range t.lv {
			sl := &t.lv[s]
			if b := sl.best; b.loss > kRtEps {
				l := int32(len(t.tree))
				t.tree = append(t.tree, node{feat: -1, parent: sl.id}, node{feat: -1, parent: sl.id})
				nd := &t.tree[sl.id]
				nd.feat, nd.thr, nd.gain, nd.left = b.feat, b.thr, b.loss, l
				sl.child = int32(len(t.lv2))
				t.lv2 = append(t.lv2, slot{id: l}, slot{id: l + 1})
			} else {
				t.tree[sl.id].value = sl.weight * t.eta
				sl.child = -1
			}
		}
		if len(t.lv2) == 0 {
			return
		}
		// Send each row of a split node to its child, summing the children's G and N
		// in row order.
		for i, s := range t.pos {
			if s < 0 {
				continue
			}
			sl := &t.lv[s]
			c := sl.child
			if c < 0 {
				t.pos[i] = -1
				continue
			}
			nd := &t.tree[sl.id]
			if t.cols[int(nd.feat)*n+i] >= nd.thr {
				t.rightU[i] = 1
				c++
			} else {
				t.rightU[i] = 0
			}
			t.pos[i] = c
			t.lv2[c].G += float64(t.grad[i])
			t.lv2[c].N++
		}
		var off int32
		for c := range t.lv2 {
			t.lv2[c].beg = off
			off += t.lv2[c].N
			t.lv2[c].end = off
		}
		if depth+1 < t.maxDepth {
			t.partition()
		}
		t.lv, t.lv2 = t.lv2, t.lv
		t.finishSlots()
	}
	// Nodes still open at max_depth become leaves.
	for _, sl := range t.lv {
		t.tree[sl.id].value = sl.weight * t.eta
	}
}

// partition moves the rows of every split node, in every offered feature's block, to
// its children's segments of the next layout, keeping the sorted order (a stable
// partition), and makes that layout current. Rows of nodes that became leaves are
// dropped.
func (t *trainer) partition() {
	n := t.n
	next := 0
	if t.ncur == 0 {
		next = 1
	}
	dst := t.bufs[next]
	rightU, lv, lv2, cur := t.rightU, t.lv, t.lv2, t.cur
	for _, f := range t.feats {
		o := int(f) * n
		src, dblk := cur[o:o+n], dst[o:o+n]
		for s := range lv {
			sl := &lv[s]
			if sl.child < 0 {
				continue
			}
			partitionSegment(dblk[lv2[sl.child].beg:lv2[sl.child+1].end], src[sl.beg:sl.end], lv2[sl.child].N, rightU)
		}
	}
	t.cur, t.ncur = dst, next
}

// partitionSegment copies src to dst, the rows going left (rightU[row] = 0) to the first
// nLeft places and the others after them, each side in its order in src. It is branch
// free: the side is data-dependent, so a branch would mispredict often.
//
//go:noinline
func partitionSegment(dst, src []entry, nLeft int32, rightU []uint8) {
	l, r := int32(0), nLeft
	for _, e := range src {
		isR := int32(rightU[e.row])
		dst[l+(r-l)*isR] = e
		l += 1 - isR
		r += isR
	}
}

// screenTol bounds the relative difference between the float64 screening gain of
// scanSegment and xgboost's float32 loss_chg: at most five float32 roundings (G², H+λ,
// the division, the sum, the subtraction of the root gain), 5·2^-24 ≈ 3e-7 of the
// children's gain, here with a 3× margin. Gains small enough for float32 subnormals
// lose that bound, but they are far below kRtEps and can never make a split.
const screenTol = 1e-6

// scanSegment enumerates the splits of feature f for one open node, whose rows have
// the values val (sorted descending) and gradients grad, in xgboost's order: from the
// largest value to the smallest (EnumerateSplit with d_step = −1). It updates the node's
// best split.
//
// Features are scanned in ascending order, so a node's best split never has a larger
// feature index than f, and xgboost's NeedReplace reduces to "strictly greater, and not
// infinite": ties go to the lower feature and, within a feature, to the first candidate
// of the descending scan. Most candidates lose clearly; they are screened out in float64
// with multiplications by 1/(H+λ), and only candidates within screenTol of the best get
// the exact float32 evaluation that decides.
func (t *trainer) scanSegment(sl *slot, f int32, seg []entry) {
	m := len(seg) // = sl.N: the segment holds exactly the node's rows
	if m == 0 {
		return
	}
	best := sl.best
	nodeG, root, minN := sl.G, sl.rootGain, int(t.minN)
	// At position j the right child holds the j rows above (values ≥ last) and the left
	// child the m−j rows from j on; both need ≥ minN rows (min_child_weight) and ≥ 1.
	start, end := max(minN, 1), min(m-1, m-minN)
	accG := 0.0
	j := 0
	for ; j < start && j < m; j++ {
		accG += float64(seg[j].grad)
	}
	if start <= end {
		// bar is the screening threshold: approx > bar ⇔ approx − root + approx·tol > best.
		bar := (float64(best.loss) + float64(root)) / (1 + screenTol)
		last := seg[start-1].val
		es := seg[start : end+1]
		invR := t.inv[start : end+1][:len(es)]              // 1/(j+λ)
		invL := t.rinv[t.n-m+start : t.n-m+end+1][:len(es)] // 1/(m−j+λ)
		if t.alpha == 0 {
			for jj := range es {
				// The screen comes first and the boundary test (distinct values) second:
				// screened-out candidates then cost no branch on tied values.
				e := &es[jj]
				v, gl := e.val, nodeG-accG
				if approx := gl*gl*invL[jj] + accG*accG*invR[jj]; approx > bar && v != last {
					if t.evalExact(&best, f, gl, accG, m-start-jj, start+jj, root, v, last) {
						bar = (float64(best.loss) + float64(root)) / (1 + screenTol)
					}
				}
				last = v
				accG += float64(e.grad)
			}
		} else {
			// The L1 penalty soft-thresholds G in every gain; kept out of the common path.
			for jj := range es {
				e := &es[jj]
				v := e.val
				gl, gr := thresholdL1(nodeG-accG, t.alpha), thresholdL1(accG, t.alpha)
				if approx := gl*gl*invL[jj] + gr*gr*invR[jj]; approx > bar && v != last {
					if t.evalExact(&best, f, gl, gr, m-start-jj, start+jj, root, v, last) {
						bar = (float64(best.loss) + float64(root)) / (1 + screenTol)
					}
				}
				last = v
				accG += float64(e.grad)
			}
		}
		j = end + 1
	}
	// xgboost then tries sending every scanned row right and the rest (missing values)
	// left. Dense data have no missing values, so this proposes an empty left child: it
	// can pass the weight test only when min_child_weight ≤ 0, and then its loss_chg is
	// 0 up to rounding. Kept for parity with xgboost in that corner.
	if minN == 0 {
		for ; j < m; j++ {
			accG += float64(seg[j].grad)
		}
		sum := t.childGain(nodeG-accG, 0) + t.childGain(accG, float64(m))
		if loss := sum - root; best.needReplace(loss, f) {
			last := seg[m-1].val
			gap := float32(math.Abs(float64(last))) + kRtEps
			best = split{loss: loss, feat: f, thr: last - gap}
		}
	}
	sl.best = best
}

// evalExact computes a candidate's loss_chg exactly as xgboost 1.7 does — children's
// gains float32(G²)/float32(H+λ) added in float32, minus the float32 root gain — and
// makes it the best split if NeedReplace says so, with the float32 midpoint threshold
// between the value v below the boundary and last above it. gl and gr are the
// (soft-thresholded) gradient sums of the left and right children, nl and nr their
// row counts. It reports whether best changed.
func (t *trainer) evalExact(best *split, f int32, gl, gr float64, nl, nr int, root, v, last float32) bool {
	sum := float32(gl*gl)/float32(float64(nl)+t.lambda) + float32(gr*gr)/float32(float64(nr)+t.lambda)
	loss := sum - root
	if !best.needReplace(loss, f) {
		return false
	}
	thr := (v + last) * 0.5
	if thr == v {
		thr = last
	}
	*best = split{loss: loss, feat: f, thr: thr}
	return true
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
