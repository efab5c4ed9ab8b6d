package boost

import (
	"fmt"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Model is a fitted booster: a base score and a sequence of float32 regression trees.
// A Model is immutable and safe for concurrent use.
type Model struct {
	nFeat int
	base  float32
	cfg   Config
	trees []int32 // offset of each tree's root in nodes
	nodes []node  // all trees, each in xgboost's node-id order
}

// Predict implements ml.Predictor: the margin base_score + Σ_trees leaf(x), computed in
// float32 as xgboost does and returned as float64. The variance is nil. Predict panics
// if X does not have the training data's number of columns.
func (m *Model) Predict(X *mat.Dense) (mean, variance []float64) {
	r, _ := X.Dims()
	mean = make([]float64, r)
	m.PredictTo(mean, X)
	return mean, nil
}

// PredictTo writes the predictions for the rows of X into dst. Features are cast to
// float32 first; a NaN follows the default branch (left), as a missing value does in
// xgboost. PredictTo panics if len(dst) differs from the number of rows of X or X does
// not have the training data's number of columns.
func (m *Model) PredictTo(dst []float64, X *mat.Dense) {
	r, c := X.Dims()
	if c != m.nFeat {
		panic(fmt.Sprintf("boost: X has %d columns, but the model was fitted on %d features", c, m.nFeat))
	}
	if len(dst) != r {
		panic(fmt.Sprintf("boost: len(dst) = %d, but X has %d rows", len(dst), r))
	}
	x := make([]float32, c)
	raw := X.RawMatrix()
	for i := 0; i < r; i++ {
		for j, v := range raw.Data[i*raw.Stride : i*raw.Stride+c] {
			x[j] = float32(v)
		}
		dst[i] = float64(m.predictRow(x))
	}
}

func (m *Model) predictRow(x []float32) float32 {
	s := m.base
	for _, off := range m.trees {
		tree := m.nodes[off:]
		nd := int32(0)
		for tree[nd].feat >= 0 {
			n := &tree[nd]
			// !(x < thr) goes right; NaN fails both tests and goes left (default).
			if x[n.feat] >= n.thr {
				nd = n.left + 1
			} else {
				nd = n.left
			}
		}
		s += tree[nd].value
	}
	return s
}

// BaseScore returns the initial margin (0.5, the targets' mean, or the configured
// number, in float32).
func (m *Model) BaseScore() float32 { return m.base }

// Config returns the configuration the model was fitted with.
func (m *Model) Config() Config { return m.cfg }

// NumTrees returns the number of trees.
func (m *Model) NumTrees() int { return len(m.trees) }

// NumFeatures returns the number of columns the model was fitted on.
func (m *Model) NumFeatures() int { return m.nFeat }

func (m *Model) tree(i int) []node {
	if i < 0 || i >= len(m.trees) {
		panic(fmt.Sprintf("boost: tree %d out of range [0, %d)", i, len(m.trees)))
	}
	end := len(m.nodes)
	if i+1 < len(m.trees) {
		end = int(m.trees[i+1])
	}
	return m.nodes[m.trees[i]:end]
}

// Node describes one node of a fitted tree, with xgboost's node ids.
type Node struct {
	ID    int
	Depth int
	// Feature is the split feature, or −1 for a leaf.
	Feature int
	// Threshold is the split value: rows with x < Threshold go to Left.
	Threshold   float32
	Left, Right int
	// Value is the leaf value (learning rate × weight), for leaves.
	Value float32
	// Gain is xgboost's loss_chg of the split, for splits.
	Gain float32
	// Cover is the hessian sum (the number of training rows) of the node.
	Cover float32
}

// Leaf reports whether the node is a leaf.
func (n Node) Leaf() bool { return n.Feature < 0 }

// Nodes returns the nodes of tree i that survived pruning, depth first with the left
// child first (the order of xgboost's dump). It panics if i is out of range.
func (m *Model) Nodes(i int) []Node {
	t := m.tree(i)
	var out []Node
	var walk func(id int32, depth int)
	walk = func(id int32, depth int) {
		n := t[id]
		nn := Node{ID: int(id), Depth: depth, Feature: int(n.feat), Cover: n.cover, Left: -1, Right: -1}
		if n.feat < 0 {
			nn.Value = n.value
			out = append(out, nn)
			return
		}
		nn.Threshold, nn.Gain, nn.Left, nn.Right = n.thr, n.gain, int(n.left), int(n.left)+1
		out = append(out, nn)
		walk(n.left, depth+1)
		walk(n.left+1, depth+1)
	}
	walk(0, 0)
	return out
}

// Dump returns tree i in the text format of xgboost's Booster.get_dump (with_stats adds
// gain and cover), one node per line, tab-indented by depth, floats with 9 significant
// digits. It panics if i is out of range.
func (m *Model) Dump(i int, withStats bool) string {
	var b strings.Builder
	for _, n := range m.Nodes(i) {
		b.WriteString(strings.Repeat("\t", n.Depth))
		if n.Leaf() {
			fmt.Fprintf(&b, "%d:leaf=%s", n.ID, f9(n.Value))
			if withStats {
				fmt.Fprintf(&b, ",cover=%s", f9(n.Cover))
			}
		} else {
			fmt.Fprintf(&b, "%d:[f%d<%s] yes=%d,no=%d,missing=%d", n.ID, n.Feature, f9(n.Threshold), n.Left, n.Right, n.Left)
			if withStats {
				fmt.Fprintf(&b, ",gain=%s,cover=%s", f9(n.Gain), f9(n.Cover))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// f9 formats like C++ ostream with setprecision(9) (max_digits10 of float), as xgboost.
func f9(v float32) string { return strconv.FormatFloat(float64(v), 'g', 9, 32) }

// TotalGain returns, for each feature, the sum of loss_chg over the splits on it in all
// trees (xgboost's importance_type "total_gain"). If dst is nil a new slice is made;
// otherwise TotalGain panics unless len(dst) is the number of features.
func (m *Model) TotalGain(dst []float64) []float64 {
	return m.importance(dst, func(n *node) float64 { return float64(n.gain) })
}

// SplitCount returns, for each feature, the number of splits on it in all trees
// (xgboost's importance_type "weight"), with TotalGain's conventions for dst.
func (m *Model) SplitCount(dst []float64) []float64 {
	return m.importance(dst, func(*node) float64 { return 1 })
}

func (m *Model) importance(dst []float64, f func(*node) float64) []float64 {
	if dst == nil {
		dst = make([]float64, m.nFeat)
	}
	if len(dst) != m.nFeat {
		panic(fmt.Sprintf("boost: len(dst) = %d, but the model has %d features", len(dst), m.nFeat))
	}
	for i := range dst {
		dst[i] = 0
	}
	for i := range m.trees {
		t := m.tree(i)
		for k := range t {
			if n := &t[k]; n.feat >= 0 && !n.deleted {
				dst[n.feat] += f(n)
			}
		}
	}
	return dst
}
