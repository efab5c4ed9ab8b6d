package nodes

// RegisterCore adds the kinds defined in this package to r.
func RegisterCore(r *Registry) {
	registerDataset(r)
	registerTable(r)
	registerEvaluate(r)
	registerPredict(r)
	registerDescriptor(r)
	registerSchedule(r)
	registerBenchmark(r)
	registerCompare(r)
	registerReport(r)
}
