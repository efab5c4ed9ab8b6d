// Package runtime owns the study graph at run time: it orders node instances, plans what is
// cached and what must run (and why), runs ready instances concurrently on a bounded worker
// budget that nodes share for their internal parallelism, caches every value by content in
// memory and on disk, derives each instance's random stream from the study seed and its
// address, writes result files atomically, and reports progress as events. It never prints:
// the command line (or a test) observes the events.
package runtime
