package runtime

// EventKind names what happened.
type EventKind string

// The events of a run, in the order an instance goes through them.
const (
	RunStart     EventKind = "run_start"     // Total = number of instances
	NodeStart    EventKind = "node_start"    // an instance began computing
	NodeProgress EventKind = "node_progress" // Done/Total of a node's internal work (fits, epochs)
	NodeDone     EventKind = "node_done"     // computed and stored
	NodeCached   EventKind = "node_cached"   // served from the cache
	NodeFailed   EventKind = "node_failed"   // Error says why
	NodeSkipped  EventKind = "node_skipped"  // not run because an input failed; Message names it
	Warning      EventKind = "warning"       // e.g. a damaged cache entry being recomputed
	RunDone      EventKind = "run_done"      // Done = instances finished, Message = summary
)

// Event is one observation of a run. The runtime delivers events to the observer one at a
// time, in a single goroutine's order (never concurrently).
type Event struct {
	Kind    EventKind `json:"event"`
	Addr    string    `json:"addr,omitempty"`
	Elapsed float64   `json:"elapsed"`           // seconds since the run started
	Seconds float64   `json:"seconds,omitempty"` // duration of the node, for done/failed
	Done    int       `json:"done,omitempty"`
	Total   int       `json:"total,omitempty"`
	Message string    `json:"message,omitempty"`
	Error   string    `json:"error,omitempty"`
	Err     error     `json:"-"`
}
