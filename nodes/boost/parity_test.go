package boost

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Fixtures come from xgboost 1.7.4 (testdata/gen_fixtures.py, see testdata/README.md).

type dumpNode struct {
	NodeID         int          `json:"nodeid"`
	Split          string       `json:"split"`
	SplitCondition json.Number  `json:"split_condition"`
	Yes            int          `json:"yes"`
	No             int          `json:"no"`
	Missing        int          `json:"missing"`
	Gain           json.Number  `json:"gain"`
	Cover          json.Number  `json:"cover"`
	Leaf           *json.Number `json:"leaf"`
	Children       []dumpNode   `json:"children"`
}

type toyConfig struct {
	Name          string             `json:"name"`
	Params        map[string]float64 `json:"params"`
	BaseScoreText string             `json:"base_score_text"`
	BaseScore     float64            `json:"base_score"`
	Tree0Text     string             `json:"tree0_text"`
	Tree0JSON     dumpNode           `json:"tree0_json"`
	LastTreeText  string             `json:"last_tree_text"`
	LeavesPerTree []int              `json:"leaves_per_tree"`
	TotalGain     map[string]float64 `json:"total_gain"`
	PredTrain     []float64          `json:"pred_train"`
	PredOff       []float64          `json:"pred_off"`
}

type toyFixture struct {
	OffShift      float64     `json:"off_shift"`
	MeanBaseScore float64     `json:"mean_base_score"`
	Configs       []toyConfig `json:"configs"`
}

// loadToy reads the models.md §8 data set (float32 values written with 9 digits).
func loadToy(t testing.TB) (*mat.Dense, []float64) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "toy84.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	recs = recs[1:]
	n, d := len(recs), len(recs[0])-1
	X := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	for i, r := range recs {
		for j, s := range r {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				t.Fatal(err)
			}
			if j < d {
				X.Set(i, j, v)
			} else {
				y[i] = v
			}
		}
	}
	return X, y
}

func loadToyFixture(t testing.TB) *toyFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "toy84_xgb.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx toyFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	return &fx
}

// configFor maps xgboost's parameter names to a Config.
func configFor(c toyConfig) Config {
	cfg := DefaultConfig()
	for k, v := range c.Params {
		switch k {
		case "max_depth":
			cfg.MaxDepth = int(v)
		case "learning_rate":
			cfg.LearningRate = v
		case "n_estimators":
			cfg.NEstimators = int(v)
		case "reg_lambda":
			cfg.Lambda = v
		case "reg_alpha":
			cfg.Alpha = v
		case "gamma":
			cfg.Gamma = v
		case "min_child_weight":
			cfg.MinChildWeight = v
		case "base_score":
			// given as text below
		default:
			panic("unknown parameter " + k)
		}
	}
	cfg.BaseScore = c.BaseScoreText
	return cfg
}

func f32(t testing.TB, n json.Number) float32 {
	t.Helper()
	v, err := strconv.ParseFloat(string(n), 32)
	if err != nil {
		t.Fatal(err)
	}
	return float32(v)
}

func fitToy(t testing.TB, cfg Config, X *mat.Dense, y []float64) *Model {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.(*Regressor).FitModel(context.Background(), X, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func offSample(X *mat.Dense, shift float64) *mat.Dense {
	n, d := X.Dims()
	Xo := mat.NewDense(n, d, nil)
	s := float32(shift)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			Xo.Set(i, j, float64(float32(X.At(i, j))+s))
		}
	}
	return Xo
}

func maxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// maxAbsDiff32 compares after rounding both sides to float32; the fixtures hold float32
// values printed with 9 digits, so 0 means bit-equal predictions.
func maxAbsDiff32(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(float32(a[i])-float32(b[i]))))
	}
	return m
}

// TestFirstTreeMatchesXGBoost checks the first tree of the preprint model node by node
// against xgboost 1.7.4's JSON dump: same ids and features, thresholds, gains, covers
// and leaves equal in float32 (the dump's 9 digits round-trip float32 exactly).
func TestFirstTreeMatchesXGBoost(t *testing.T) {
	X, y := loadToy(t)
	fx := loadToyFixture(t)
	c := fx.Configs[0]
	if c.Name != "preprint" {
		t.Fatalf("first fixture config is %q, want preprint", c.Name)
	}
	m := fitToy(t, DefaultConfig(), X, y)
	got := map[int]Node{}
	for _, n := range m.Nodes(0) {
		got[n.ID] = n
	}
	var walk func(d dumpNode)
	count := 0
	walk = func(d dumpNode) {
		count++
		n, ok := got[d.NodeID]
		if !ok {
			t.Errorf("node %d: missing", d.NodeID)
			return
		}
		if cv := f32(t, d.Cover); n.Cover != cv {
			t.Errorf("node %d: cover %v, xgboost %v", d.NodeID, n.Cover, cv)
		}
		if d.Leaf != nil {
			if !n.Leaf() || n.Value != f32(t, *d.Leaf) {
				t.Errorf("node %d: got %+v, xgboost leaf %v", d.NodeID, n, *d.Leaf)
			}
			return
		}
		feat, _ := strconv.Atoi(d.Split[1:])
		if n.Feature != feat || n.Threshold != f32(t, d.SplitCondition) || n.Gain != f32(t, d.Gain) ||
			n.Left != d.Yes || n.Right != d.No || d.Missing != d.Yes {
			t.Errorf("node %d: got f%d<%v gain %v yes %d no %d; xgboost %s<%s gain %s yes %d no %d",
				d.NodeID, n.Feature, n.Threshold, n.Gain, n.Left, n.Right, d.Split, d.SplitCondition, d.Gain, d.Yes, d.No)
		}
		for _, ch := range d.Children {
			walk(ch)
		}
	}
	walk(c.Tree0JSON)
	if count != len(got) {
		t.Errorf("tree 0 has %d nodes, xgboost %d", len(got), count)
	}
	if s := m.Dump(0, true); s != c.Tree0Text {
		t.Errorf("text dump differs:\n%s\nxgboost:\n%s", s, c.Tree0Text)
	}
}

// TestRootGainByHand recomputes the root split's loss_chg of the first tree straight from
// the data, with xgboost's float32 formula (models.md §4.2), and checks it against the
// gain xgboost 1.7.4 printed (228.304932) and against the model.
func TestRootGainByHand(t *testing.T) {
	X, y := loadToy(t)
	n, _ := X.Dims()
	const thr = float32(0.244965613) // xgboost's root threshold on f0
	var gl, gr, hl, hr float64
	for i := 0; i < n; i++ {
		g := float64(float32(0.5) - float32(y[i])) // g = ŷ − y at the base score
		if float32(X.At(i, 0)) < thr {
			gl, hl = gl+g, hl+1
		} else {
			gr, hr = gr+g, hr+1
		}
	}
	child := func(G, H float64) float32 { return float32(G*G) / float32(H+1) }
	loss := (child(gl, hl) + child(gr, hr)) - child(gl+gr, hl+hr)
	if want := float32(228.304932); loss != want {
		t.Errorf("hand loss_chg = %v, xgboost %v", loss, want)
	}
	m := fitToy(t, DefaultConfig(), X, y)
	if r := m.Nodes(0)[0]; r.Gain != loss || hl != 37 || hr != 47 {
		t.Errorf("root gain %v (hand %v), left/right cover %v/%v, want 37/47", r.Gain, loss, hl, hr)
	}
}

// TestToyParity fits every fixture configuration (the preprint's and seven with
// non-default λ, α, γ, min_child_weight, base_score, depth, η, rounds, including
// λ = 0 with min_child_weight = 0) and compares with xgboost 1.7.4: the dumps of the
// first and last trees as text (bit-equal float32 thresholds, gains, leaves), the leaf
// count of every tree, total-gain importances, and predictions on the training rows and
// on the off-sample rows X + 0.013 to 2e-6 (models.md §4.3 aims for ≤ 2e-6).
func TestToyParity(t *testing.T) {
	X, y := loadToy(t)
	Xo := offSample(X, loadToyFixture(t).OffShift)
	for _, c := range loadToyFixture(t).Configs {
		t.Run(c.Name, func(t *testing.T) {
			m := fitToy(t, configFor(c), X, y)
			if m.BaseScore() != float32(c.BaseScore) {
				t.Errorf("base score %v, xgboost %v", m.BaseScore(), float32(c.BaseScore))
			}
			if s := m.Dump(0, true); s != c.Tree0Text {
				t.Errorf("tree 0 dump differs:\n%s\nxgboost:\n%s", s, c.Tree0Text)
			}
			if s := m.Dump(m.NumTrees()-1, true); s != c.LastTreeText {
				t.Errorf("last tree dump differs:\n%s\nxgboost:\n%s", s, c.LastTreeText)
			}
			if m.NumTrees() != len(c.LeavesPerTree) {
				t.Fatalf("%d trees, xgboost %d", m.NumTrees(), len(c.LeavesPerTree))
			}
			for i, want := range c.LeavesPerTree {
				leaves := 0
				for _, n := range m.Nodes(i) {
					if n.Leaf() {
						leaves++
					}
				}
				if leaves != want {
					t.Errorf("tree %d: %d leaves, xgboost %d", i, leaves, want)
				}
			}
			tg := m.TotalGain(nil)
			for j, g := range tg {
				want := c.TotalGain["f"+strconv.Itoa(j)] // absent = never split on
				if math.Abs(g-want) > 1e-6*math.Max(1, math.Abs(want)) {
					t.Errorf("total gain f%d = %v, xgboost %v", j, g, want)
				}
			}
			pt, _ := m.Predict(X)
			po, _ := m.Predict(Xo)
			dt, do := maxAbsDiff(pt, c.PredTrain), maxAbsDiff(po, c.PredOff)
			t.Logf("max |Δ| train %.3g, off-sample %.3g; in float32: %.3g, %.3g",
				dt, do, maxAbsDiff32(pt, c.PredTrain), maxAbsDiff32(po, c.PredOff))
			if dt > 2e-6 || do > 2e-6 {
				t.Errorf("predictions differ from xgboost by %g (train), %g (off-sample); tolerance 2e-6", dt, do)
			}
		})
	}
}

// TestSpecNumbers checks the [fixture] numbers printed in models.md §4.4 item 2, which
// were made independently of this package's fixture files.
func TestSpecNumbers(t *testing.T) {
	X, y := loadToy(t)
	m := fitToy(t, DefaultConfig(), X, y)
	p, _ := m.Predict(X)
	rows := []int{0, 1, 2, 41, 83}
	want := []float64{4.5527596, 5.4883256, 7.489727, 6.143182, 6.353038}
	for k, i := range rows {
		if math.Abs(p[i]-want[k]) > 2e-6 {
			t.Errorf("ŷ[%d] = %.8g, models.md %.8g", i, p[i], want[k])
		}
	}
	var mean, sse float64
	for i := range p {
		mean += p[i]
		sse += (p[i] - y[i]) * (p[i] - y[i])
	}
	mean /= float64(len(p))
	rmse := math.Sqrt(sse / float64(len(p)))
	if math.Abs(mean-5.1853566) > 2e-6 || math.Abs(rmse-0.06412400) > 2e-7 {
		t.Errorf("mean ŷ %.8g (models.md 5.1853566), train RMSE %.8g (models.md 0.06412400)", mean, rmse)
	}
	off := offSample(mat.DenseCopyOf(X.Slice(0, 5, 0, 5)), 0.013)
	po, _ := m.Predict(off)
	wantOff := []float64{4.5527596, 5.3588147, 7.4677052, 7.1797056, 6.7868266}
	for k := range po {
		if math.Abs(po[k]-wantOff[k]) > 2e-6 {
			t.Errorf("off-sample ŷ[%d] = %.8g, models.md %.8g", k, po[k], wantOff[k])
		}
	}
}
