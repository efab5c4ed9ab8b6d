package runtime

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

// Test kinds: trivial nodes whose executions are counted, so tests can tell what ran.

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) inc(addr string) {
	c.mu.Lock()
	c.n[addr]++
	c.mu.Unlock()
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.n {
		t += v
	}
	return t
}

type srcConfig struct {
	Value float64 `attr:"value" doc:"the number this node emits"`
	Rows  int     `attr:"rows"`
}

type sumConfig struct {
	Inputs []lang.Ref `attr:"inputs" accepts:"table"`
	Add    float64    `attr:"add"`
}

type randConfig struct {
	N     int        `attr:"n"`
	Input lang.Ref   `attr:"input" accepts:"table"`
	Tasks int        `attr:"tasks"`
	Dummy []lang.Ref `attr:"after"`
}

type memoConfig struct {
	Heavy int     `attr:"heavy"` // what the memoized sub-computation depends on
	Light float64 `attr:"light"` // what only the cheap part depends on
}

type filesConfig struct {
	Names []string `attr:"names"`
	Text  string   `attr:"text"`
	Fail  bool     `attr:"fail"`
}

// filesValue writes one result file per name, so a config edit can change which files a
// node writes.
type filesValue struct {
	Names []string
	Text  string
}

func (v *filesValue) TypeName() string               { return "files" }
func (v *filesValue) MarshalBinary() ([]byte, error) { return json.Marshal(v) }
func (v *filesValue) Artifacts() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, n := range v.Names {
		out["_"+n+".txt"] = []byte(v.Text + " " + n + "\n")
	}
	return out, nil
}

type waitConfig struct {
	Name string `attr:"name"`
}

func oneCol(name string, xs []float64) *table.Table {
	ids := make([]string, len(xs))
	for i := range ids {
		ids[i] = fmt.Sprintf("r%d", i)
	}
	return &table.Table{IDs: ids, Cols: []*table.Column{{Name: name, Num: xs}}}
}

// testRegistry returns a registry of test kinds and the execution counter they share.
// barrier, when non-nil, makes every "wait" node block until `want` of them are running
// at the same time (or a timeout), recording the maximum overlap seen.
func testRegistry(barrier *overlap) (*nodes.Registry, *counter) {
	cnt := &counter{n: map[string]int{}}
	r := nodes.NewRegistry()
	nodes.RegisterCore(r)
	nodes.Register(r, nodes.Def[srcConfig]{
		Name: "src", Version: 1, Output: "table", Defaults: srcConfig{Rows: 1},
		Run: func(c *nodes.Context, cfg *srcConfig) (nodes.Value, error) {
			cnt.inc(c.Addr)
			xs := make([]float64, cfg.Rows)
			for i := range xs {
				xs[i] = cfg.Value
			}
			return oneCol("x", xs), nil
		},
	})
	nodes.Register(r, nodes.Def[sumConfig]{
		Name: "sum", Version: 1, Output: "table",
		Run: func(c *nodes.Context, cfg *sumConfig) (nodes.Value, error) {
			cnt.inc(c.Addr)
			s := cfg.Add
			for _, in := range cfg.Inputs {
				t, err := c.Table(in)
				if err != nil {
					return nil, err
				}
				for _, x := range t.Cols[0].Num {
					s += x
				}
			}
			if math.IsNaN(s) {
				return nil, fmt.Errorf("the sum is NaN")
			}
			if s < 0 {
				panic("negative sum")
			}
			return oneCol("x", []float64{s}), nil
		},
	})
	nodes.Register(r, nodes.Def[randConfig]{
		Name: "rand", Version: 1, Output: "table", Seeded: true, Defaults: randConfig{N: 5, Tasks: 8},
		Run: func(c *nodes.Context, cfg *randConfig) (nodes.Value, error) {
			cnt.inc(c.Addr)
			// Internal parallelism through the shared budget: results go to slots.
			out := make([]float64, cfg.Tasks*cfg.N)
			err := c.Parallel(cfg.Tasks, func(i int) error {
				rng := c.Rand("task", fmt.Sprint(i))
				for j := 0; j < cfg.N; j++ {
					out[i*cfg.N+j] = rng.Float64()
				}
				return nil
			})
			return oneCol("u", out), err
		},
	})
	nodes.Register(r, nodes.Def[memoConfig]{
		Name: "memo", Version: 1, Output: "table",
		Run: func(c *nodes.Context, cfg *memoConfig) (nodes.Value, error) {
			cnt.inc(c.Addr)
			v, err := c.Memo([]byte(fmt.Sprint("heavy=", cfg.Heavy)), func() (nodes.Value, error) {
				cnt.inc("heavy")
				return oneCol("h", []float64{float64(cfg.Heavy) * 10}), nil
			})
			if err != nil {
				return nil, err
			}
			h := v.(*table.Table).Cols[0].Num[0]
			return oneCol("x", []float64{h + cfg.Light}), nil
		},
	})
	r.RegisterValue("files", func(b []byte) (nodes.Value, error) {
		v := &filesValue{}
		return v, json.Unmarshal(b, v)
	})
	nodes.Register(r, nodes.Def[filesConfig]{
		Name: "files", Version: 1, Output: "files",
		Run: func(c *nodes.Context, cfg *filesConfig) (nodes.Value, error) {
			cnt.inc(c.Addr)
			if cfg.Fail {
				return nil, fmt.Errorf("told to fail")
			}
			return &filesValue{Names: cfg.Names, Text: cfg.Text}, nil
		},
	})
	nodes.Register(r, nodes.Def[waitConfig]{
		Name: "wait", Version: 1, Output: "table",
		Run: func(c *nodes.Context, cfg *waitConfig) (nodes.Value, error) {
			cnt.inc(c.Addr)
			if barrier != nil {
				barrier.enter()
				defer barrier.leave()
			}
			return oneCol("x", []float64{1}), nil
		},
	})
	return r, cnt
}

// overlap records how many wait nodes run at once; each waits until want are inside.
type overlap struct {
	want    int32
	timeout time.Duration
	inside  atomic.Int32
	maxSeen atomic.Int32
}

func (o *overlap) enter() {
	n := o.inside.Add(1)
	for {
		m := o.maxSeen.Load()
		if n <= m || o.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	timeout := o.timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for o.maxSeen.Load() < o.want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

func (o *overlap) leave() { o.inside.Add(-1) }
