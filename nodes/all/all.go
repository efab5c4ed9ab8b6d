// Package all assembles the registry of every node kind ntedsl ships: the one place a new
// kind is added.
package all

import (
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/nodes/boost"
	"github.com/ntedsl/ntedsl/nodes/csdi"
	"github.com/ntedsl/ntedsl/nodes/daggm"
	"github.com/ntedsl/ntedsl/nodes/dgp"
	"github.com/ntedsl/ntedsl/nodes/hessian"
	"github.com/ntedsl/ntedsl/nodes/knn"
	"github.com/ntedsl/ntedsl/nodes/pbp"
	"github.com/ntedsl/ntedsl/nodes/ridge"
)

// Registry returns a registry holding every built-in node kind.
func Registry() *nodes.Registry {
	r := nodes.NewRegistry()
	nodes.RegisterCore(r)
	boost.Register(r)
	ridge.Register(r)
	knn.Register(r)
	pbp.Register(r)
	dgp.Register(r)
	csdi.Register(r)
	daggm.Register(r)
	hessian.Register(r)
	return r
}
