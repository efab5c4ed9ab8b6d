package cv

import (
	"sync"
	"sync/atomic"
)

// Runner executes task(0) … task(n−1), possibly concurrently, and returns an error if
// any task failed. It may stop starting new tasks after a failure. Every task writes its
// results into its own indexed slot, so the order of execution never changes a result.
// The engine supplies a Runner bounded by its worker budget.
type Runner func(n int, task func(i int) error) error

// Serial runs the tasks one after another in index order and stops at the first error.
func Serial(n int, task func(i int) error) error {
	for i := 0; i < n; i++ {
		if err := task(i); err != nil {
			return err
		}
	}
	return nil
}

// Workers returns a Runner with k goroutines pulling tasks in index order (k ≤ 1 is
// Serial). After a failure no new task starts; the error returned is that of the
// lowest-index task that failed among those that ran.
func Workers(k int) Runner {
	if k <= 1 {
		return Serial
	}
	return func(n int, task func(i int) error) error {
		var next atomic.Int64
		var failed atomic.Bool
		errs := make([]error, n)
		var wg sync.WaitGroup
		for w := 0; w < min(k, n); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !failed.Load() {
					i := int(next.Add(1) - 1)
					if i >= n {
						return
					}
					if err := task(i); err != nil {
						errs[i] = err
						failed.Store(true)
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
}
