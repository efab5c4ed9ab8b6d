package autodiff

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Parallelism inside ops. Work is split into contiguous ranges whose results do not depend
// on the split (elementwise loops, independent rows, independent attention heads, gemm row
// panels), so results are bit-identical for any thread count. Reductions across rows
// (bias and γ/β gradients) stay serial, in a fixed order.

var maxThreads atomic.Int64

// SetMaxThreads limits how many goroutines a single op may use (n ≤ 0: GOMAXPROCS, the
// default) and returns the previous limit. Results never depend on it; lower it when the
// caller already runs independent models in parallel, so that ops do not compete for
// cores. It is safe to call concurrently with running ops.
func SetMaxThreads(n int) int { return int(maxThreads.Swap(int64(n))) }

func threads() int {
	p := runtime.GOMAXPROCS(0)
	if n := int(maxThreads.Load()); n > 0 && n < p {
		return n
	}
	return p
}

// parMinElems is the element count from which elementwise ops are split over goroutines.
const parMinElems = 1 << 16

// parElems runs fn over [0, n) in contiguous ranges, in parallel when n is large. Only for
// loops whose iterations are independent (no reduction across them), so that results do
// not depend on the split.
func parElems(n int, fn func(lo, hi int)) {
	if n < parMinElems {
		fn(0, n)
		return
	}
	forJobs(n, parMinWork, fn)
}

// parRows is parElems over rows of the given width.
func parRows(rows, width int, fn func(lo, hi int)) {
	if rows*width < parMinElems {
		fn(0, rows)
		return
	}
	forJobs(rows, parMinWork, fn)
}

// forJobs runs fn over [0, jobs) split into contiguous ranges, one goroutine each, when the
// total work (jobs·perJob multiply-adds) is worth it. The ranges depend on the thread count
// (see SetMaxThreads), so fn must make each job's result independent of its range.
func forJobs(jobs, perJob int, fn func(lo, hi int)) {
	workers := 1
	if jobs*perJob >= parMinWork {
		workers = min(threads(), jobs)
	}
	if workers <= 1 {
		fn(0, jobs)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*jobs/workers, (w+1)*jobs/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
